using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>
/// The VM area: create, list, start/stop, pause, change, clone, rename, remove, and disks (one partial file per
/// concern: VmService.Create, .Lifecycle, .Copy, .Settings, .Disks). Each VM is one daemonized qemu-system-x86_64;
/// its state is derived from the process and its run folder on every call.
/// </summary>
public sealed partial class VmService : Disks.IOnlineDiskResizer
{
    public const long MinMemorySize = 32L * 1024 * 1024;
    public const long MinHotplugMemorySize = 1024L * 1024 * 1024;
    /// <summary>Linux onlines hotplugged memory in 128 MiB blocks; DIMMs come in multiples of it.</summary>
    public const long DimmGranularity = 128L * 1024 * 1024;

    private readonly VzPaths paths;
    private readonly VeStore store;
    private readonly HostProbe host;
    private readonly ILogger logger;
    private readonly QemuProcess process;
    private readonly QemuImg images;
    private readonly ProcessRunner runner;
    private readonly Lazy<ICgroupBackend> cgroups;

    /// <summary>Admission control run before a start: throws when the VM's guarantee does not fit.</summary>
    public Action<VeConfig>? Admission { get; init; }

    public VmService(VzPaths paths, VeStore store, HostProbe host, ProcessRunner runner, Func<ICgroupBackend> cgroupBackend, ILogger logger)
    {
        cgroups = new(cgroupBackend);
        this.paths = paths;
        this.store = store;
        this.host = host;
        this.runner = runner;
        this.logger = logger;
        process = new QemuProcess(runner, logger);
        images = new QemuImg(runner);
        Guest = new VmGuestService(this, logger);
    }

    /// <summary>Guest tools over the agent (exec, password, info, network).</summary>
    public VmGuestService Guest { get; }

    public VmRuntimePaths RuntimePaths(Guid id) => VmRuntimePaths.For(paths, id);

    /// <summary>The VM's own cgroup (relative, the same in every hierarchy): CPU weight and limit, memory guarantee.</summary>
    public string CgroupPath(Guid id) => $"{paths.CgroupParent}/vm-{id:N}";

    /// <summary>
    /// The cgroup limits of a VM. No hard memory limit: QEMU needs RAM plus its own overhead, and an OOM kill of a
    /// VM is worse than the host reclaiming. The protection (guarantee plus QEMU's overhead, vcmmd's mem_min)
    /// becomes memory.low / soft limit.
    /// </summary>
    internal static CgroupLimits LimitsFor(VeConfig config) => new()
    {
        MemoryLow = Memory.MemoryPlanner.Protection(config),
        CpuUnits = config.Cpu.Units,
        CpuPeriodMicroseconds = CgroupUnits.DefaultCfsPeriod,
        CpuQuotaMicroseconds = config.Cpu.LimitPercent is > 0 and var pct ? CgroupUnits.QuotaFromPercent(pct) : -1,
    };

    /// <summary>Deletes the VM's cgroup once QEMU is gone; retried briefly because a dying QEMU may linger a moment.</summary>
    private void DeleteCgroup(Guid id)
    {
        for (var attempt = 0; ; attempt++)
        {
            try { if (cgroups.Value.Exists(CgroupPath(id))) cgroups.Value.Delete(CgroupPath(id), paths.CgroupParent); return; }
            catch (Exception ex) when (ex is IOException or VzException && attempt < 20) { Thread.Sleep(100); }
        }
    }

    // ---- listing ------------------------------------------------------------------------------------------

    /// <summary>Builds the view of one VM from its config and /proc; no subprocess, no socket.</summary>
    public VmInfo Describe(VeRecord record)
    {
        var config = record.Config ?? throw new VzConfigCorruptException(record.Directory, null, record.Error?.Message ?? "the VM's config cannot be read.");
        var vm = config.Vm ?? new VmSettings();
        var rt = RuntimePaths(record.Id);
        var status = QemuProcess.Inspect(rt);
        var state = !status.Alive ? (File.Exists(rt.SavedState) ? VmState.Saved : VmState.Stopped)
                    : File.Exists(rt.PausedMarker) ? VmState.Paused : VmState.Running;
        return new VmInfo
        {
            Name = config.Name,
            Id = config.Id,
            State = state,
            StateReason = state == VmState.Saved ? null : status.DeadReason,
            ProcessId = status.Pid,
            CpuCount = config.Cpu.Count ?? 1,
            CpuMask = config.Cpu.Mask,
            CpuLimit = config.Cpu.LimitPercent,
            CpuUnits = config.Cpu.Units,
            MemorySize = config.Memory.Size,
            MemGuarantee = Memory.MemGuarantee.FromConfig(config.Memory.GuaranteePercent),
            MemGuaranteePercent = Memory.MemoryPlanner.EffectiveGuaranteePercent(config),
            MemHotplug = vm.MemHotplug,
            OnBoot = config.OnBoot,
            Firmware = vm.Firmware,
            Machine = vm.Machine,
            NetworkMode = vm.NetworkMode,
            MacAddress = vm.MacAddress,
            Disks = [.. vm.Disks.Select(d => DescribeDisk(config, d))],
            DvdDrives = [.. vm.DvdDrives],
            GuestToolsState = status.Alive ? GuestToolsState.NotQueried : GuestToolsState.NotRunning,
            PendingChanges = vm.Pending?.ToString() ?? "",
            Description = config.Description,
            Directory = record.Directory,
            CreatedAt = config.CreatedAt,
        };
    }

    /// <summary><see cref="Describe"/> plus a guest-sync round trip for running VMs (Get-VzVm -GuestTools).</summary>
    public async Task<VmInfo> DescribeWithGuestToolsAsync(VeRecord record, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = Describe(record);
        if (info.State == VmState.Stopped) return info;
        try
        {
            await VmConnections.WithAgentAsync(RuntimePaths(record.Id), info.Name, timeout, _ => Task.FromResult(true), cancellationToken);
            return info with { GuestToolsState = GuestToolsState.Responding };
        }
        catch (VzException) { return info with { GuestToolsState = GuestToolsState.NotResponding }; }
    }

    public VmDiskInfo DescribeDisk(VeConfig config, VmDisk disk)
    {
        var full = ResolvePath(config.Id, disk.Path);
        long size = 0;
        try { size = new FileInfo(full).Exists ? new FileInfo(full).Length : 0; } catch (IOException) { }
        return new VmDiskInfo { VmName = config.Name, VmId = config.Id, DiskId = disk.Id, Path = full, Format = disk.Format, FileSize = size, BackingFile = disk.BackingFile };
    }

    internal (VmRuntimePaths Paths, string Name) Running(Guid id)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var rt = RuntimePaths(id);
        VmConnections.RequireRunning(rt, record.DisplayName);
        return (rt, record.DisplayName);
    }

    private static VzNotFoundException NotFound(Guid id) =>
        new("VzVmNotFound", $"No VM with id {id} exists on this host.", id) { RecommendedAction = "Run Get-VzVm to see the VMs on this host." };
}
