using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Ksm;
using Virtuozzo.Engine.Memory;
using Virtuozzo.Engine.Processes;
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

    public VzEngine(VzPaths paths, ILoggerFactory? loggerFactory = null)
    {
        Paths = paths;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Runner = new ProcessRunner(LoggerFactory.CreateLogger<ProcessRunner>());
        Store = new VeStore(paths, LoggerFactory.CreateLogger<VeStore>());
        hostProbe = new(() => new HostProbe(paths, Runner, LoggerFactory.CreateLogger<HostProbe>()));
        disks = new(() => new DiskService(paths, Store, new QemuImgDriver(Runner),
            new GuestFileSystemResizer(paths, Runner, LoggerFactory.CreateLogger<GuestFileSystemResizer>()), LoggerFactory.CreateLogger<DiskService>()));
        Memory = new MemoryService(Store, ActivityOf);
        configExchange = new(() => new VeConfigExchange(Store, LoggerFactory.CreateLogger<VeConfigExchange>()));
    }

    /// <summary>Whether a VE holds memory now, asked of the area that runs it.</summary>
    public VeActivity ActivityOf(VeRecord record) => record.Config?.Type switch
    {
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

    /// <summary>Export-VzConfig / Import-VzConfig: VE settings to and from desired-state files.</summary>
    public VeConfigExchange ConfigExchange => configExchange.Value;
}
