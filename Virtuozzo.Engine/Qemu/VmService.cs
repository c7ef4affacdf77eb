using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Qemu.Agent;
using Virtuozzo.Engine.Qemu.Cgroup;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>
/// The VM area: create, list, start/stop, pause, change, clone, rename, remove, and disks (one partial file per
/// concern: VmService.Create, .Lifecycle, .Copy, .Settings, .Disks). Each VM is one daemonized qemu-system-x86_64;
/// its state is derived from the process and its run folder on every call. The service orchestrates under the
/// per-VM lock; the QEMU parts live beside it as libvirt's src/qemu splits them: CommandLine/ (the argument list),
/// Process/ (launch, pid file, exit and crash detection), Monitor/ (typed QMP), Agent/ (typed QGA), Hotplug/
/// (disks, DIMMs), Migration/ (the state file), Cgroup/ (placement and limits).
/// </summary>
public sealed partial class VmService : Disks.IOnlineDiskResizer
{
    public const long MinMemorySize = 32L * 1024 * 1024;
    public const long MinHotplugMemorySize = 1024L * 1024 * 1024;

    private readonly VzPaths paths;
    private readonly VeStore store;
    private readonly HostProbe host;
    private readonly ILogger logger;
    private readonly QemuProcess process;
    private readonly QemuImg images;
    private readonly ProcessRunner runner;

    /// <summary>Admission control run before a start: throws when the VM's guarantee does not fit.</summary>
    public Action<VeConfig>? Admission { get; init; }

    /// <summary>
    /// Called with the VE's id and the bridge its NIC joins (null: host-routed) before the NIC is plumbed: brings the virtual
    /// network up and puts the firewall back after a reboot (set by the engine; null in area-only tests).
    /// </summary>
    public Func<Guid, string?, CancellationToken, Task>? BeforeNetwork { get; init; }

    /// <summary>Joins the taps of a launched VM's added network adapters to their bridges and sets their link state.</summary>
    public Func<VeConfig, CancellationToken, Task>? AttachAdapters { get; init; }

    public VmService(VzPaths paths, VeStore store, HostProbe host, ProcessRunner runner, Func<ICgroupBackend> cgroupBackend, ILogger logger)
    {
        this.paths = paths;
        this.store = store;
        this.host = host;
        this.runner = runner;
        this.logger = logger;
        process = new QemuProcess(runner, logger);
        images = new QemuImg(runner);
        CgroupPlacement = new VmCgroup(paths, cgroupBackend);
        Guest = new VmGuestService(this, logger);
    }

    /// <summary>Guest tools over the agent (exec, password, info, network).</summary>
    public VmGuestService Guest { get; }

    /// <summary>The VMs' cgroup placement and limits.</summary>
    public VmCgroup CgroupPlacement { get; }

    public VmRuntimePaths RuntimePaths(Guid id) => VmRuntimePaths.For(paths, id);

    /// <summary>A monitor session on a running VM (fails with VzVmNotRunning otherwise).</summary>
    internal static async Task<QemuMonitor> OpenMonitorAsync(VmRuntimePaths rt, string name, CancellationToken ct)
    {
        QemuProcess.RequireRunning(rt, name);
        return await QemuMonitor.OpenAsync(rt, name, ct);
    }

    /// <summary>A synced agent session on a running VM; the whole call is bounded by <paramref name="timeout"/>.</summary>
    internal static async Task<QemuAgent> OpenAgentAsync(VmRuntimePaths rt, string name, TimeSpan timeout, CancellationToken ct)
    {
        QemuProcess.RequireRunning(rt, name);
        return await QemuAgent.OpenAsync(rt, name, timeout, ct);
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
        // The host service's cache: live memory and guest tools facts without a round trip (PSBM-44235).
        var live = status.Alive ? VmLiveState.Read(rt, status.Pid) : null;
        var now = DateTimeOffset.UtcNow;
        return new VmInfo
        {
            Name = config.Name,
            Id = config.Id,
            StateValue = state,
            // A running VM whose virtio-fs daemon died still runs, but its share hangs: the reason says so.
            StateReason = state == VmState.Saved ? null : status.Alive ? VmShareState.DeadDaemonReason(rt) : status.DeadReason,
            ProcessId = status.Pid,
            CpuCount = config.Cpu.Count ?? 1,
            CpuMask = config.Cpu.Mask,
            CpuLimit = config.Cpu.LimitPercent,
            CpuLimitMhz = config.Cpu.LimitMhz,
            CpuUnits = config.Cpu.Units,
            MemorySize = config.Memory.MemorySize,
            MemGuarantee = Memory.MemGuarantee.FromConfig(config.Memory.GuaranteePercent),
            MemGuaranteePercent = Memory.MemoryPlanner.EffectiveGuaranteePercent(config),
            MemHotplug = vm.MemHotplug,
            OnBoot = config.OnBoot,
            BootOrder = config.BootOrder ?? 0,
            BootDelay = config.BootDelay ?? 0,
            AutoStop = config.AutoStop ?? VeAutoStop.None,
            AutoBalloon = vm.AutoBalloon ?? true,
            MemMerge = vm.MemMerge ?? true,
            Firmware = vm.Firmware,
            Machine = vm.Machine,
            NetworkMode = vm.NetworkMode,
            Network = vm.NetworkMode switch { VmNetworkMode.Bridge => vm.Bridge ?? "", VmNetworkMode.User => "User", _ => "None" },
            KernelPath = vm.KernelPath,
            InitrdPath = vm.InitrdPath,
            KernelArguments = vm.KernelArguments,
            MacAddress = vm.MacAddress,
            Disks = [.. vm.Disks.Select(d => DescribeDisk(config, d))],
            DvdDrives = [.. vm.DvdDrives],
            GuestToolsState = !status.Alive ? GuestToolsState.NotRunning
                : live?.GuestToolsUpdatedAt is { } gt && now - gt < VmLiveState.FreshFor ? live.GuestToolsState : GuestToolsState.NotQueried,
            MemoryActual = live is { BalloonActual: { } actual } && now - live.MemoryUpdatedAt < VmLiveState.FreshFor ? actual : null,
            GuestInfoAge = live?.GuestToolsUpdatedAt is { } at ? now - at : null,
            OsName = live?.OsName,
            IpAddresses = live?.IpAddresses ?? [],
            PendingChanges = vm.Pending?.ToString() ?? "",
            SnapshotCount = config.Snapshots?.Count ?? 0,
            Description = config.Description,
            Directory = record.Directory,
            CreatedAt = config.CreatedAt,
        };
    }

    /// <summary><see cref="Describe"/> plus a guest-sync round trip for running VMs (Get-VzVm -GuestTools).</summary>
    public async Task<VmInfo> DescribeWithGuestToolsAsync(VeRecord record, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = Describe(record);
        if (info.StateValue == VmState.Stopped) return info;
        try
        {
            await using (await OpenAgentAsync(RuntimePaths(record.Id), info.Name, timeout, cancellationToken)) { }
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
        QemuProcess.RequireRunning(rt, record.DisplayName);
        return (rt, record.DisplayName);
    }

    private static VzNotFoundException NotFound(Guid id) =>
        new("VzVmNotFound", $"No VM with id {id} exists on this host.", id) { RecommendedAction = "Run Get-VzVm to see the VMs on this host." };
}
