using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Containers.Cgroup;
using Virtuozzo.Engine.Containers.Runtime;
using Virtuozzo.Engine.Containers.Templates;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// System containers: create from a template, start/stop/suspend, run commands, change resources live, copy,
/// rename, remove. Each container is an OCI bundle in its VE folder (config.json + root/), run by crun or runc,
/// with cgroups the engine owns under <see cref="VzPaths.CgroupParent"/>. State is never stored: it is read
/// from the init process (/proc), the runtime and the freezer each time. The service orchestrates under the
/// per-VE lock; the parts live beside it: Runtime/ (bundle writer, runtime adapters, the init's run folder),
/// Cgroup/ (placement and limits), Network/ (plumbing), ImageLayout (the private area).
/// </summary>
public sealed partial class ContainerService
{
    private readonly VzPaths paths;
    private readonly VeStore store;
    private readonly ProcessRunner runner;
    private readonly ILogger logger;

    public ContainerService(VzPaths paths, VeStore store, ProcessRunner runner, TemplateStore templates, NetworkSetup network,
        Func<ICgroupBackend> cgroupFactory, ILogger<ContainerService> logger)
    {
        this.paths = paths;
        this.store = store;
        this.runner = runner;
        Templates = templates;
        Network = network;
        CgroupPlacement = new ContainerCgroup(paths, cgroupFactory);
        Runtimes = new OciRuntimes(paths, runner);
        this.logger = logger;
        Images = new ImageLayout(runner, logger);
        ProcessMerge = new Ksm.ProcessMerge(runner);
    }

    /// <summary>Per-container KSM (Set-VzContainer -MemMerge): the host check and the runtime launcher's prefix.</summary>
    public Ksm.ProcessMerge ProcessMerge { get; }

    public TemplateStore Templates { get; }
    /// <summary>Network plumbing: the veth pair, bridge or host routes, eth0's addresses.</summary>
    public NetworkSetup Network { get; }
    public ImageLayout Images { get; }
    /// <summary>The containers' cgroup placement and limits.</summary>
    public ContainerCgroup CgroupPlacement { get; }
    /// <summary>The OCI runtime adapters (crun, runc) and which one starts use.</summary>
    public OciRuntimes Runtimes { get; }

    /// <summary>Admission and start of containers with a guarantee happen one at a time in this process (see StartAsync).</summary>
    private static readonly Concurrency.AsyncGate AdmissionGate = new();

    /// <summary>Admission control run before a start: throws when the container's guarantee does not fit.</summary>
    public Action<VeConfig>? Admission { get; init; }

    /// <summary>
    /// Called with the VE's id and the bridge its NIC joins (null: host-routed) before the NIC is plumbed: brings the virtual
    /// network up and puts the firewall back after a reboot (set by the engine; null in area-only tests).
    /// </summary>
    public Func<Guid, string?, CancellationToken, Task>? BeforeNetwork { get; init; }

    private string RootPath(Guid id) => Path.Combine(paths.VeDirectory(id), "root");
    private ContainerInit Init(Guid id) => new(paths.VeRunDirectory(id));

    /// <summary>What is running for a container right now, read from its run folder and /proc (no subprocess).</summary>
    internal (bool Running, int Pid, string? Runtime) Live(Guid id) => Init(id).Live();

    /// <summary>A container's live state and counters, read cheaply (see <see cref="ContainerLiveState"/>).</summary>
    public ContainerLiveState LiveState(Guid id) => ContainerLiveState.Read(Init(id), CgroupPlacement, id);

    /// <summary>A container's settings and live state, for Get-VzContainer. Reads files and /proc only.</summary>
    public ContainerInfo Describe(VeRecord r)
    {
        var cfg = r.Config;
        if (cfg is null || r.State != VeRegistrationState.Ready)
            return new ContainerInfo
            {
                Name = r.DisplayName, Id = r.Id, Path = r.Directory, Template = cfg?.Container?.Template,
                StateValue = r.State switch { VeRegistrationState.Creating => ContainerState.Creating, VeRegistrationState.Corrupt => ContainerState.Corrupt, _ => ContainerState.Incomplete },
                StatusMessage = r.Error?.Message ?? (r.State == VeRegistrationState.Creating ? "being created" : "left half-created; remove it"),
            };
        var ct = cfg.Container ?? new ContainerSettings();
        var (running, pid, runtime, stats) = LiveState(r.Id);
        return new ContainerInfo
        {
            Name = cfg.Name,
            Id = r.Id,
            StateValue = !running ? ContainerState.Stopped : stats.Frozen ? ContainerState.Suspended : ContainerState.Running,
            StateReason = running ? null : EndedReason(r.Id, pid),
            Template = ct.Template,
            Hostname = ct.Hostname ?? cfg.Name,
            IpAddress = [.. ct.Network.IpAddresses],
            NetworkMode = ct.Network.Mode,
            Bridge = ct.Network.Mode == NetworkMode.Bridged && ct.Network.IpAddresses.Count > 0 ? ct.Network.Bridge : null,
            Gateway = ct.Network.Gateway,
            MacAddress = ct.Network.MacAddress,
            Nameserver = [.. ct.Nameservers],
            MemorySize = cfg.Memory.MemorySize,
            SwapSize = cfg.Memory.SwapSize,
            MemGuarantee = Memory.MemGuarantee.FromConfig(cfg.Memory.GuaranteePercent),
            MemGuaranteePercent = Memory.MemoryPlanner.EffectiveGuaranteePercent(cfg),
            CpuCount = cfg.Cpu.Count,
            CpuUnits = cfg.Cpu.Units,
            CpuLimit = cfg.Cpu.LimitPercent ?? 0,
            CpuLimitMhz = cfg.Cpu.LimitMhz,
            CpuMask = cfg.Cpu.Mask,
            PidsLimit = ct.PidsLimit,
            OnBoot = cfg.OnBoot,
            MemMerge = ct.MemMerge == true,
            BootOrder = cfg.BootOrder ?? 0,
            BootDelay = cfg.BootDelay ?? 0,
            AutoStop = cfg.AutoStop ?? VeAutoStop.None,
            Layout = ct.Layout,
            DiskSize = ct.Layout == ContainerLayout.Image ? ct.DiskSize : null,
            Description = cfg.Description,
            SnapshotCount = cfg.Snapshots?.Count ?? 0,
            Runtime = running ? runtime : null,
            InitPid = running ? pid : 0,
            MemoryCurrent = stats.MemoryCurrent,
            MemoryPeak = stats.MemoryPeak,
            OomKills = stats.OomKills,
            CpuTime = stats.CpuTime,
            ProcessCount = stats.ProcessCount,
            UidBase = ct.UidBase,
            Path = r.Directory,
            CreatedAt = cfg.CreatedAt,
            SeccompProfile = ct.SeccompProfile ?? SeccompProfile.Default,
            StatusMessage = ContainerConfigurator.Unapplied(cfg, SwapAccounting.IsEnabled) is { Count: > 0 } unapplied ? string.Join(" ", unapplied) : null,
        };
    }

    public ContainerInfo Describe(Guid id) => Describe(Require(id));

    /// <summary>
    /// Why a stopped container stopped, when it did not stop through the engine: a stop removes the run folder, so a
    /// run folder that outlived its init means the init ended on its own. Its exit status went to whoever reaped it
    /// (the host's init), so the reason says what the state on disk can tell: the pid, and OOM kills in its cgroup.
    /// </summary>
    private string? EndedReason(Guid id, int pid)
    {
        if (pid <= 0 || !Directory.Exists(Init(id).RunDirectory)) return null;
        var oomKills = 0L;
        try { if (CgroupPlacement.Exists(id)) oomKills = CgroupPlacement.ReadStats(id).OomKills; }
        catch (VzException) { } // the reason is a hint; a cgroup going away under us must not fail a listing
        return oomKills > 0
            ? $"Its init (pid {pid}) ended without Stop-VzContainer after the kernel's OOM killer killed {oomKills} process(es) in it."
            : $"Its init (pid {pid}) ended without Stop-VzContainer: it was killed, crashed, or the system inside shut down.";
    }

    private VeRecord Require(Guid id)
    {
        var r = store.TryGet(id);
        if (r is null || (r.Config is not null && r.Config.Type != VeType.Container))
            throw new VzNotFoundException("VzContainerNotFound", $"No container with id {id} exists on this host.", id)
            { RecommendedAction = "Run Get-VzContainer to see the containers on this host." };
        return r;
    }

    private (VeRecord Record, VeConfig Config) RequireReady(Guid id)
    {
        var r = Require(id);
        if (r.Error is { } corrupt) throw corrupt; // names the file and what is wrong in it
        if (r.Config is null || r.State != VeRegistrationState.Ready)
            throw new VzInvalidStateException("VzContainerIncomplete", $"The container {r.DisplayName} is {r.State.ToString().ToLowerInvariant()}; it can only be removed.", r.DisplayName)
            { RecommendedAction = "Remove it with Remove-VzContainer." };
        return (r, VeConfigFile.Clone(r.Config));
    }
}
