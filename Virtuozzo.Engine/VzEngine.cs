using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Containers.Templates;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Ksm;
using Virtuozzo.Engine.Memory;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine;

/// <summary>
/// The composition root: one per data root, holding the services of every area. Services are created on first
/// use, so importing the module or listing VEs never probes QEMU or runtimes it does not need.
/// </summary>
public sealed class VzEngine
{
    private readonly Lazy<HostProbe> hostProbe;
    private readonly Lazy<DiskService> disks;
    private readonly Lazy<VeConfigExchange> configExchange;
    private readonly Lazy<VmService> vms;
    private readonly Lazy<ContainerService> containers;
    private readonly Lazy<ICgroupBackend> cgroups;
    private readonly Lazy<Network.Firewall.FirewallService> firewall;
    private readonly Lazy<VirtualNetworkService> networks;

    public VzEngine(VzPaths paths, ILoggerFactory? loggerFactory = null)
    {
        Paths = paths;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Runner = new ProcessRunner(LoggerFactory.CreateLogger<ProcessRunner>());
        Store = new VeStore(paths, LoggerFactory.CreateLogger<VeStore>());
        disks = new(() => new DiskService(paths, Store, new QemuImgDriver(Runner),
            new GuestFileSystemResizer(paths, Runner, LoggerFactory.CreateLogger<GuestFileSystemResizer>()),
            new Disks.Compact.GuestFileSystemTrimmer(paths, Runner, LoggerFactory.CreateLogger<Disks.Compact.GuestFileSystemTrimmer>()),
            new GuestFileSystemShrinker(paths, Runner, LoggerFactory.CreateLogger<GuestFileSystemShrinker>()), LoggerFactory.CreateLogger<DiskService>())
        {
            // A disk a running VM has open is resized through QEMU (block_resize), not under it.
            OnlineResizer = Vms,
            // ... and compacted through its guest agent (guest-fstrim), not under it.
            OnlineCompactor = Vms,
            // ... and grown with its partition, LV and file system inside the guest (-ResizeGuestFileSystem).
            OnlineGuestResizer = Vms,
        });
        Memory = new MemoryService(Store, ActivityOf)
        {
            LiveStateOf = id =>
            {
                var rt = Vms.RuntimePaths(id);
                var state = VmLiveState.Read(rt, Qemu.Process.QemuProcess.Inspect(rt).Pid);
                return state is not null && DateTimeOffset.UtcNow - state.MemoryUpdatedAt < VmLiveState.FreshFor ? state : null;
            },
        };
        vms = new(() => new VmService(paths, Store, Host, Runner, () => Cgroups, LoggerFactory.CreateLogger<VmService>())
        {
            Admission = Memory.Admit,
            BeforeNetwork = BeforeNetworkAsync,
            AttachAdapters = (config, ct) => NetworkAdapters.AttachVmTapsAsync(config, ct),
        });
        configExchange = new(() => new VeConfigExchange(Store, LoggerFactory.CreateLogger<VeConfigExchange>())
        {
            Create = CreateFromSettingsAsync,
            Apply = new VeSettingsApplier(Store, () => Containers, () => Vms, () => SharedFolders, () => NetworkAdapters).ApplyAsync,
        });
        hostProbe = new(() => new HostProbe(paths, Runner, LoggerFactory.CreateLogger<HostProbe>())
        {
            // Get-VzHost reports whether each OCI runtime can really run a container here.
            RuntimeTrial = (info, ct) => Containers.RuntimeTrialAsync(info, ct),
        });
        cgroups = new(() => CgroupBackends.ForHost(parent: paths.CgroupParent));
        var networkStore = new VirtualNetworkStore(paths);
        firewall = new(() => new Network.Firewall.FirewallService(paths, Store, networkStore, Runner, LoggerFactory.CreateLogger<Network.Firewall.FirewallService>()));
        networks = new(() => new VirtualNetworkService(paths, Store, networkStore, Firewall,
            new NetworkSetup(Runner, LoggerFactory.CreateLogger<NetworkSetup>()), Runner, LoggerFactory.CreateLogger<VirtualNetworkService>()));
        containers = new(() => new ContainerService(paths, Store, Runner,
            new TemplateStore(paths, Runner, LoggerFactory.CreateLogger<TemplateStore>()),
            new NetworkSetup(Runner, LoggerFactory.CreateLogger<NetworkSetup>()) { ProxyStateDirectory = Path.Combine(paths.RunRoot, "network") },
            () => Cgroups,
            LoggerFactory.CreateLogger<ContainerService>())
        {
            Admission = Memory.Admit,
            BeforeNetwork = BeforeNetworkAsync,
            AttachAdapters = (config, pid, ct) => NetworkAdapters.AttachAllAsync(config, pid, ct),
            DetachAdapters = (config, ct) => NetworkAdapters.DetachAllAsync(config, ct),
        });
    }

    /// <summary>Makes a VE named in a settings file through its area; the file's settings are applied afterwards.</summary>
    private async Task<Guid> CreateFromSettingsAsync(VeConfig desired, CancellationToken ct) => desired.Type switch
    {
        VeType.Container => (await Containers.CreateAsync(desired.Name, desired.Container!.Template,
            new ContainerChanges { Layout = desired.Container.Layout, DiskSize = desired.Container.DiskSize }, null, ct)).Id,
        _ => (await Vms.CreateAsync(new VmCreateOptions
        {
            Name = desired.Name,
            MemorySize = desired.Memory.MemorySize > 0 ? desired.Memory.MemorySize : 1L << 30,
            CpuCount = desired.Cpu.Count ?? 1,
            Machine = desired.Vm?.Machine ?? "q35",
            Firmware = desired.Vm?.Firmware ?? VmFirmware.Bios,
            MemHotplug = desired.Vm?.MemHotplug ?? false,
        }, ct)).Id,
    };

    /// <summary>Whether a VE holds memory now, asked of the area that runs it.</summary>
    public VeActivity ActivityOf(VeRecord record) => record.Config?.Type switch
    {
        VeType.VirtualMachine => Vms.Describe(record).StateValue switch
        {
            VmState.Running => VeActivity.Running,
            VmState.Paused => VeActivity.Paused,
            _ => VeActivity.Stopped,
        },
        VeType.Container => record.Config is null || record.State != VeRegistrationState.Ready ? VeActivity.Stopped
            : Containers.LiveState(record.Id) switch
            {
                { Frozen: true } => VeActivity.Paused,
                { Running: true } => VeActivity.Running,
                _ => VeActivity.Stopped,
            },
        _ => VeActivity.Stopped,
    };

    public VzPaths Paths { get; }
    public ILoggerFactory LoggerFactory { get; }
    public ProcessRunner Runner { get; }
    public VeStore Store { get; }
    public HostProbe Host => hostProbe.Value;
    public DiskService Disks => disks.Value;
    public MemoryService Memory { get; }
    public KsmControl Ksm { get; } = new();
    /// <summary>Usage figures of running VEs (Measure-VzVm, Measure-VzContainer).</summary>
    public Metrics.VeMeter Meter => new(this);

    /// <summary>The host service of this data root: whether it runs, start, stop, install (Service/).</summary>
    public Service.HostServiceControl HostService => new(Paths, Runner, LoggerFactory.CreateLogger<Service.HostServiceControl>());

    /// <summary>Export-VzConfig / Import-VzConfig: VE settings to and from desired-state files.</summary>
    public VeConfigExchange ConfigExchange => configExchange.Value;

    /// <summary>Virtual machines on QEMU (lifecycle, disks, guest tools).</summary>
    public VmService Vms => vms.Value;

    /// <summary>
    /// The host's cgroup backend (v1 or v2), shared by containers and VMs: groups are paths under
    /// <see cref="VzPaths.CgroupParent"/>, e.g. <c>{CgroupParent}/ct-&lt;id&gt;</c> or <c>{CgroupParent}/vm-&lt;id&gt;</c>.
    /// </summary>
    public ICgroupBackend Cgroups => cgroups.Value;

    /// <summary>Per-VE firewalls: the module's nft table, replaced per change in one transaction.</summary>
    public Network.Firewall.FirewallService Firewall => firewall.Value;

    /// <summary>Virtual networks (Bridged, HostOnly, Private) and their bridges, NAT and DHCP.</summary>
    public VirtualNetworkService Networks => networks.Value;

    /// <summary>
    /// Before a VE's NIC is plumbed: its network is brought up if it is not (first start after a reboot), and the
    /// firewall table put back if it is gone, so a VE never comes up unfiltered.
    /// </summary>
    private async Task BeforeNetworkAsync(Guid id, string? bridge, CancellationToken ct)
    {
        if (bridge is { Length: > 0 }) await Networks.EnsureUpForBridgeAsync(bridge, ct);
        await Firewall.EnsureAsync(id, ct);
    }

    /// <summary>Network adapters of containers and VMs beyond the first (Add/Get/Set/Remove-VzNetworkAdapter).</summary>
    public Network.Adapters.NetworkAdapterService NetworkAdapters =>
        new(this, LoggerFactory.CreateLogger<Network.Adapters.NetworkAdapterService>());

    /// <summary>Moving VEs to another host over SSH (Test-VzMigration, Move-VzVm, Move-VzContainer).</summary>
    public Migration.MigrationService Migration => migration ??= new(this, LoggerFactory.CreateLogger<Migration.MigrationService>());
    private Migration.MigrationService? migration;

    /// <summary>System containers (and their templates, cgroups and network plumbing).</summary>
    public ContainerService Containers => containers.Value;

    /// <summary>Host folders shared with containers (bind mounts) and VMs (virtio-fs, 9p).</summary>
    public SharedFolders.SharedFolderService SharedFolders =>
        new(Paths, Store, () => Vms, () => Containers, LoggerFactory.CreateLogger<SharedFolders.SharedFolderService>());
}
