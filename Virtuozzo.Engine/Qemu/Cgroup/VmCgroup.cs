using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu.Cgroup;

/// <summary>
/// Where a VM's QEMU sits in the cgroup tree and what limits its group carries. One group per VM, the same relative
/// path in every hierarchy, so the CPU weight and limit and the memory guarantee cover all QEMU threads.
/// </summary>
public sealed class VmCgroup(VzPaths paths, Func<ICgroupBackend> backend)
{
    private readonly Lazy<ICgroupBackend> cgroups = new(backend);

    /// <summary>The VM's group, relative to the cgroup root(s).</summary>
    public string PathOf(Guid id) => $"{paths.CgroupParent}/vm-{id:N}";

    /// <summary>
    /// The cgroup limits of a VM. No hard memory limit: QEMU needs RAM plus its own overhead, and an OOM kill of a
    /// VM is worse than the host reclaiming. The protection (guarantee plus QEMU's overhead, vcmmd's mem_min)
    /// becomes memory.low / soft limit.
    /// </summary>
    public static CgroupLimits LimitsFor(VeConfig config, double hostMhz = double.NaN) => new()
    {
        MemoryLow = Memory.MemoryPlanner.Protection(config),
        CpuUnits = config.Cpu.Units,
        CpuPeriodMicroseconds = CgroupUnits.DefaultCfsPeriod,
        // A MHz limit is turned into a quota with this host's frequency at each write (start, Set-VzVm).
        CpuQuotaMicroseconds = CpuLimit.QuotaMicroseconds(config.Cpu,
            double.IsNaN(hostMhz) ? (config.Cpu.LimitMhz is > 0 ? Host.CpuInfo.NominalMhz() : 0) : hostMhz) ?? -1,
    };

    /// <summary>Creates the VM's group with its limits and moves the freshly started QEMU into it.</summary>
    public void Place(Guid id, int pid, VeConfig config)
    {
        var cg = PathOf(id);
        cgroups.Value.CheckControllers(cg, LimitsFor(config)); // a controller the host does not delegate is named, not an IOException
        cgroups.Value.Create(cg);
        cgroups.Value.Apply(cg, LimitsFor(config));
        cgroups.Value.AddProcess(cg, pid);
    }

    /// <summary>Writes changed limits to a running VM's group.</summary>
    public void Apply(Guid id, VeConfig config) => cgroups.Value.Apply(PathOf(id), LimitsFor(config));

    /// <summary>Deletes the VM's group once QEMU is gone; retried briefly because a dying QEMU may linger a moment.</summary>
    public void Delete(Guid id)
    {
        for (var attempt = 0; ; attempt++)
        {
            try { if (cgroups.Value.Exists(PathOf(id))) cgroups.Value.Delete(PathOf(id), paths.CgroupParent); return; }
            catch (Exception ex) when (ex is IOException or VzException && attempt < 20) { Thread.Sleep(100); }
        }
    }
}
