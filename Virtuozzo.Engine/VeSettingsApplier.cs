using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Memory;
using Virtuozzo.Engine.Network.Adapters;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.SharedFolders;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine;

/// <summary>
/// Brings a VE to the settings of a desired-state file (Import-VzConfig) through the same engine calls Set-VzContainer
/// and Set-VzVm make: the same checks, admission control for a larger guarantee, live apply on a running VE (cgroup
/// files, hostname, addresses; pending changes on a running VM). Only what those calls cannot express is then written
/// to ve.yaml directly: a container's CPU count or hostname going back to the default, a VM's network and direct-boot
/// settings. Shared folders and added network adapters are then brought to the file's lists by the calls of
/// Add/Remove-VzSharedFolder and Add/Set/Remove-VzNetworkAdapter.
/// </summary>
internal sealed class VeSettingsApplier(VeStore store, Func<ContainerService> containers, Func<VmService> vms, Func<SharedFolderService> shares,
    Func<NetworkAdapterService> adapters)
{
    public async Task ApplyAsync(Guid id, VeConfig desired, CancellationToken ct)
    {
        await ApplySettingsAsync(id, desired, ct).ConfigureAwait(false);
        // Shares through Add/Remove-VzSharedFolder's own calls: the same checks, and attached or detached live on a running VE.
        await shares().ReconcileAsync(id, desired.SharedFolders ?? [], ct).ConfigureAwait(false);
        // Adapters likewise: plumbed or unplugged live on a running VE, under the firewall's anti-spoofing.
        await adapters().ReconcileAsync(id, desired.NetworkAdapters ?? [], ct).ConfigureAwait(false);
    }

    private async Task ApplySettingsAsync(Guid id, VeConfig desired, CancellationToken ct)
    {
        if (desired.Type == VeType.Container)
        {
            var c = desired.Container ?? new ContainerSettings();
            await containers().SetAsync(id, new ContainerChanges
            {
                MemorySize = desired.Memory.MemorySize > 0 ? desired.Memory.MemorySize : null,
                SwapSize = desired.Memory.SwapSize,
                MemGuarantee = MemGuarantee.FromConfig(desired.Memory.GuaranteePercent),
                CpuCount = desired.Cpu.Count,
                CpuUnits = desired.Cpu.Units,
                // The limit as the file gives it: in MHz, or in percent (none is 0 %).
                CpuLimit = desired.Cpu.LimitMhz is null ? desired.Cpu.LimitPercent ?? 0 : null,
                CpuLimitMhz = desired.Cpu.LimitMhz,
                CpuMask = desired.Cpu.Mask ?? "all",
                PidsLimit = c.PidsLimit ?? 0,
                Hostname = c.Hostname,
                Nameserver = [.. c.Nameservers],
                IpAddress = [.. c.Network.IpAddresses],
                NetworkMode = c.Network.Mode,
                Bridge = c.Network.Bridge,
                Gateway = c.Network.Gateway ?? "",
                OnBoot = desired.OnBoot,
                Description = desired.Description ?? "",
            }, ct).ConfigureAwait(false);
            // Per-container KSM merging is stored as Set-VzContainer -MemMerge stores it; the start checks the kernel.
            (Automation(desired) with { MemMerge = c.MemMerge == true }).ApplyTo(store, id, desired.Name);
            if (desired.Cpu.Count is null || c.Hostname is null)
                store.Update(id, cfg =>
                {
                    if (desired.Cpu.Count is null) cfg.Cpu.Count = null;
                    if (c.Hostname is null && cfg.Container is { } cc) cc.Hostname = null;
                }, ct);
            return;
        }
        var current = store.TryGet(id)?.Config;
        // Boot order, AutoStop, autoballooning and mem-merge as Set-VzVm sets them. Memory hotplug is part of the
        // VM's identity for a file (VeIdentity): set when the import creates the VM, never switched on an existing one.
        var vmSettings = desired.Vm ?? current?.Vm ?? new VmSettings();
        vms().SetAutomation(id, Automation(desired) with { AutoBalloon = vmSettings.AutoBalloon ?? true, MemMerge = vmSettings.MemMerge ?? true }, ct);
        await vms().SetAsync(id, new VmSetOptions
        {
            CpuCount = desired.Cpu.Count ?? 1,
            // Re-pinning a running VM's vCPU threads costs a monitor round trip: only when the mask changes.
            CpuMask = desired.Cpu.Mask == current?.Cpu.Mask ? null : desired.Cpu.Mask ?? "",
            CpuLimit = desired.Cpu.LimitMhz is null ? desired.Cpu.LimitPercent ?? 0 : null,
            CpuLimitMhz = desired.Cpu.LimitMhz,
            CpuUnits = desired.Cpu.Units,
            MemorySize = desired.Memory.MemorySize > 0 ? desired.Memory.MemorySize : null,
            MemGuarantee = MemGuarantee.FromConfig(desired.Memory.GuaranteePercent),
            OnBoot = desired.OnBoot,
            Description = desired.Description ?? "",
        }, ct).ConfigureAwait(false);
        if (desired.Vm is { } v)
            store.Update(id, cfg =>
            {
                var vm = cfg.Vm!;
                (vm.NetworkMode, vm.Bridge, vm.KernelPath, vm.InitrdPath, vm.KernelArguments) = (v.NetworkMode, v.Bridge, v.KernelPath, v.InitrdPath, v.KernelArguments);
                cfg.Memory.SwapSize = desired.Memory.SwapSize;
            }, ct);
    }

    /// <summary>The host service settings of the desired state, whole: a default (0, None) is set, not left alone.</summary>
    private static VeAutomationChanges Automation(VeConfig desired) => new()
    {
        BootOrder = desired.BootOrder ?? 0, BootDelay = desired.BootDelay ?? 0, AutoStop = desired.AutoStop ?? VeAutoStop.None,
    };
}
