using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Configuration;
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
/// from the init process (/proc), the runtime and the freezer each time.
/// </summary>
public sealed partial class ContainerService
{
    private const string RunRuntimeFile = "runtime", RunPidFile = "init.pid", RunStartFile = "init.start", ConsoleLog = "console.log";

    private readonly VzPaths paths;
    private readonly VeStore store;
    private readonly ProcessRunner runner;
    private readonly Lazy<ICgroupBackend> cgroups;
    private readonly ILogger logger;

    public ContainerService(VzPaths paths, VeStore store, ProcessRunner runner, TemplateStore templates, NetworkSetup network,
        Func<ICgroupBackend> cgroupFactory, ILogger<ContainerService> logger)
    {
        this.paths = paths;
        this.store = store;
        this.runner = runner;
        Templates = templates;
        Network = network;
        cgroups = new(cgroupFactory);
        this.logger = logger;
        Images = new ImageLayout(runner, logger);
    }

    public TemplateStore Templates { get; }
    public NetworkSetup Network { get; }
    public ImageLayout Images { get; }
    public ICgroupBackend Cgroups => cgroups.Value;

    /// <summary>Admission control run before a start: throws when the container's guarantee does not fit.</summary>
    public Action<VeConfig>? Admission { get; init; }

    /// <summary>The cgroup path of a container, relative to each hierarchy's root.</summary>
    public string CgroupPath(Guid id) => $"{paths.CgroupParent}/ct-{id:N}";

    /// <summary>The id the OCI runtime knows the container by.</summary>
    public static string RuntimeId(Guid id) => $"vz-{id:N}";

    private string RootPath(Guid id) => Path.Combine(paths.VeDirectory(id), "root");
    private string RunDir(Guid id) => paths.VeRunDirectory(id);
    private string RuntimeStateRoot(string runtime) => Path.Combine(paths.RunRoot, "oci", runtime);

    /// <summary>
    /// The runtime new starts use: the one forced with Set-VzHost; else the first the host probe saw run a trial
    /// container (from its cache file; a start never runs the probe itself); else crun, else runc, as installed.
    /// </summary>
    public string SelectRuntimeName()
    {
        var forced = HostSettings.Load().ContainerRuntime;
        if (forced is { Length: > 0 } && !string.Equals(forced, "Auto", StringComparison.OrdinalIgnoreCase)) return forced;
        if (ProbedRuntime() is { } probed) return probed;
        foreach (var name in new[] { "crun", "runc" }) if (ToolLocator.Find(name) is not null) return name;
        throw new VzCapabilityMissingException("VzNoContainerRuntime", "Neither crun nor runc is installed.", "runtime", "crun")
        { RecommendedAction = "Install crun or runc (./build.ps1 -Task Bootstrap)." };
    }

    private string? ProbedRuntime()
    {
        var file = Path.Combine(paths.RunRoot, "host-capabilities.json");
        try
        {
            if (!File.Exists(file) || new FileInfo(file).Length > 1 << 20) return null;
            var caps = System.Text.Json.JsonSerializer.Deserialize<HostCapabilities>(File.ReadAllText(file));
            if (caps is null || DateTimeOffset.UtcNow - caps.ProbedAt > HostProbe.CapabilityMaxAge) return null;
            return caps.ContainerRuntimes.FirstOrDefault(r => r.CanRun == true && r.Name is "crun" or "runc")?.Name;
        }
        catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException) { return null; }
    }

    public OciRuntime Runtime(string name)
    {
        if (name is not ("crun" or "runc"))
            throw new VzInvalidArgumentException("VzUnknownRuntime", $"'{name}' is not a supported OCI runtime.", name, "ContainerRuntime")
            { RecommendedAction = "Use crun or runc." };
        var (mode, _, unified) = CgroupLayout.Read();
        return new OciRuntime(name, runner, RuntimeStateRoot(name), mode == CgroupMode.Hybrid ? unified : null);
    }

    /// <summary>What is running for a container right now, read from its run folder and /proc (no subprocess).</summary>
    internal (bool Running, int Pid, string? Runtime) Live(Guid id)
    {
        var dir = RunDir(id);
        var runtime = ReadSmall(Path.Combine(dir, RunRuntimeFile));
        if (runtime is null) return (false, 0, null);
        if (!int.TryParse(ReadSmall(Path.Combine(dir, RunPidFile)), out var pid) || !ulong.TryParse(ReadSmall(Path.Combine(dir, RunStartFile)), out var start))
            return (false, 0, runtime);
        return (ProcStat.IsSameLiveProcess(pid, start), pid, runtime);
    }

    private static string? ReadSmall(string path)
    {
        try { return File.Exists(path) ? File.ReadAllText(path).Trim() : null; }
        catch (IOException) { return null; }
    }

    /// <summary>A container's settings and live state, for Get-VzContainer. Reads files and /proc only.</summary>
    public ContainerInfo Describe(VeRecord r)
    {
        var cfg = r.Config;
        if (cfg is null || r.State != VeRegistrationState.Ready)
            return new ContainerInfo
            {
                Name = r.DisplayName, Id = r.Id, Path = r.Directory, Template = cfg?.Container?.Template,
                State = r.State switch { VeRegistrationState.Creating => ContainerState.Creating, VeRegistrationState.Corrupt => ContainerState.Corrupt, _ => ContainerState.Incomplete },
                StatusMessage = r.Error?.Message ?? (r.State == VeRegistrationState.Creating ? "being created" : "left half-created; remove it"),
            };
        var ct = cfg.Container ?? new ContainerSettings();
        var (running, pid, runtime) = Live(r.Id);
        var stats = running ? Cgroups.ReadStats(CgroupPath(r.Id)) : CgroupStats.Empty;
        return new ContainerInfo
        {
            Name = cfg.Name,
            Id = r.Id,
            State = !running ? ContainerState.Stopped : stats.Frozen ? ContainerState.Suspended : ContainerState.Running,
            StateReason = running ? null : EndedReason(r.Id, pid),
            Template = ct.Template,
            Hostname = ct.Hostname ?? cfg.Name,
            IpAddress = [.. ct.Network.IpAddresses],
            NetworkMode = ct.Network.Mode,
            Bridge = ct.Network.Mode == NetworkMode.Bridged && ct.Network.IpAddresses.Count > 0 ? ct.Network.Bridge : null,
            MacAddress = ct.Network.MacAddress,
            Nameserver = [.. ct.Nameservers],
            MemorySize = cfg.Memory.Size,
            SwapSize = cfg.Memory.SwapSize,
            MemGuaranteePercent = Memory.MemoryPlanner.EffectiveGuaranteePercent(cfg),
            CpuCount = cfg.Cpu.Count,
            CpuUnits = cfg.Cpu.Units,
            CpuLimit = cfg.Cpu.LimitPercent ?? 0,
            CpuMask = cfg.Cpu.Mask,
            PidsLimit = ct.PidsLimit,
            OnBoot = cfg.OnBoot,
            Layout = ct.Layout,
            DiskSize = ct.Layout == ContainerLayout.Image ? ct.DiskSize : null,
            Description = cfg.Description,
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
        if (pid <= 0 || !Directory.Exists(RunDir(id))) return null;
        var oomKills = 0L;
        try { if (Cgroups.Exists(CgroupPath(id))) oomKills = Cgroups.ReadStats(CgroupPath(id)).OomKills; }
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
