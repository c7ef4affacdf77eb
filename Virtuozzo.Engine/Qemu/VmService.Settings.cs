using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Changing a VM's settings: live where QEMU allows, otherwise stored as pending.</summary>
public sealed partial class VmService
{
    public async Task<VmSetResult> SetAsync(Guid id, VmSetOptions o, CancellationToken cancellationToken)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var name = record.DisplayName;
        var rt = RuntimePaths(id);
        var pending = new List<string>();
        var notes = new List<string>();
        if (o.CpuCount is { } count) Virtuozzo.Engine.Host.CpuCountRule.Validate(count, Environment.ProcessorCount, name);
        if (o.CpuUnits is < 8 or > 500000) throw new VzInvalidArgumentException("VzInvalidCpuUnits", "CpuUnits must be 8-500000.", name, "CpuUnits");
        Cgroups.CpuLimit.Validate(o.CpuLimit, o.CpuLimitMhz, Environment.ProcessorCount, o.CpuLimitMhz is > 0 ? Host.CpuInfo.NominalMhz() : 0, name);
        o.MemGuarantee?.Validate(name);
        if (o.MemorySize is { } ms && (ms < MinMemorySize || ms % (1024 * 1024) != 0))
            throw new VzInvalidArgumentException("VzInvalidMemorySize", $"MemorySize must be a whole number of MiB, at least {MinMemorySize / (1024 * 1024)} MB.", name, "MemorySize");
        string? mask = null;
        if (o.CpuMask is { Length: > 0 } m) mask = CpuAffinity.Format(CpuAffinity.Parse(m, Environment.ProcessorCount, name));

        using var veLock = store.AcquireVeLock(id, cancellationToken);
        var current = VeConfigFile.Read(paths.VeConfigPath(id));
        var running = QemuProcess.Inspect(rt).Alive;
        if (running && o.MemGuarantee is { } guarantee)
        {
            // A larger guarantee on a running VM must still fit beside the others; otherwise it is not set.
            var projected = VeConfigFile.Clone(current);
            projected.Memory.GuaranteePercent = guarantee.Percent;
            if (Memory.MemoryPlanner.Protection(projected) > Memory.MemoryPlanner.Protection(current)) Admission?.Invoke(projected);
        }
        // A running VM changes size through its balloon first, DIMMs only for the rest (VmService.MemoryResize).
        var resized = false;
        VmDimm? newDimm = null;
        if (o.MemorySize is { } mem && mem != current.Memory.MemorySize && running)
        {
            var plan = MemoryResizePlan.For(current, mem);
            if (!plan.Deferred && plan.DimmBytes > 0) RefuseWithVirtioFs(rt, name, "VzMemoryHotplugBlockedBySharedFolder", "add memory (a DIMM) to");
            notes.Add(plan.Note);
            if (plan.Deferred) pending.Add($"MemorySize={mem / (1024 * 1024)}MB");
            else
            {
                newDimm = await ResizeRunningAsync(rt, name, plan, cancellationToken);
                resized = true;
            }
        }
        var bootRam = MemoryResizePlan.PluggedRam(current) - current.Vm!.Dimms.Sum(d => d.Size);
        if (o.CpuCount is { } cc && cc != (current.Cpu.Count ?? 1) && running)
        {
            pending.Add($"CpuCount={cc}");
            notes.Add("vCPU hotplug is not done live: the new CPU count applies at the next start.");
        }
        var updated = store.UpdateLocked(veLock, id, c =>
        {
            var vm = c.Vm!;
            if (o.CpuCount is { } count)
            {
                if (running && count != (c.Cpu.Count ?? 1)) (vm.Pending ??= new()).CpuCount = count;
                else
                {
                    if (count != (c.Cpu.Count ?? 1)) c.Cpu.Count = count; // the default stays implicit: a round trip changes nothing
                    if (vm.Pending is not null) vm.Pending.CpuCount = null;
                }
            }
            if (newDimm is not null) vm.Dimms.Add(newDimm);
            if (o.MemorySize is { } size && size != c.Memory.MemorySize)
            {
                if (running && !resized) (vm.Pending ??= new()).MemorySize = size;
                else { c.Memory.MemorySize = size; if (vm.Pending is not null) vm.Pending.MemorySize = null; }
            }
            // QEMU keeps the RAM it booted with; remember it while the size says otherwise (a restore needs it).
            if (resized) vm.BootMemorySize = c.Memory.MemorySize - vm.Dimms.Sum(d => d.Size) == bootRam ? null : bootRam;
            if (vm.Pending?.IsEmpty == true) vm.Pending = null;
            if (o.CpuMask is not null) c.Cpu.Mask = mask;
            Cgroups.CpuLimit.Store(c.Cpu, o.CpuLimit, o.CpuLimitMhz);
            if (o.CpuUnits is { } units) c.Cpu.Units = units;
            if (o.MemGuarantee is { } g) c.Memory.GuaranteePercent = g.Percent;
            if (o.OnBoot is { } onBoot) c.OnBoot = onBoot;
            if (o.Description is not null) c.Description = o.Description.Length == 0 ? null : o.Description;
        });
        if (running && (o.CpuLimit is not null || o.CpuLimitMhz is not null || o.CpuUnits is not null || o.MemGuarantee is not null || resized))
            CgroupPlacement.Apply(id, updated);
        if (running && o.CpuMask is not null)
            await PinVcpusAsync(rt, name, mask ?? CpuAffinity.Format(Enumerable.Range(0, Environment.ProcessorCount)), cancellationToken);
        return new VmSetResult(Describe(store.TryGet(id)!), pending, notes);
    }

    /// <summary>Pins every vCPU thread (thread ids from query-cpus-fast) to the host CPUs in <paramref name="mask"/>.</summary>
    private async Task PinVcpusAsync(VmRuntimePaths rt, string name, string mask, CancellationToken ct)
    {
        var cpus = CpuAffinity.Parse(mask, Environment.ProcessorCount, name);
        IReadOnlyList<int> threads;
        await using (var monitor = await OpenMonitorAsync(rt, name, ct))
            threads = await monitor.QueryVcpuThreadIdsAsync(ct);
        foreach (var tid in threads) CpuAffinity.SetThreadAffinity(tid, cpus);
        logger.LogInformation("Pinned {Count} vCPU threads of '{Name}' to CPUs {Mask}.", threads.Count, name, mask);
    }
}
