using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Containers.Templates;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Network;
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
    private readonly Lazy<ContainerService> containers;
    private readonly Lazy<ICgroupBackend> cgroups;

    public VzEngine(VzPaths paths, ILoggerFactory? loggerFactory = null)
    {
        Paths = paths;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Runner = new ProcessRunner(LoggerFactory.CreateLogger<ProcessRunner>());
        Store = new VeStore(paths, LoggerFactory.CreateLogger<VeStore>());
        hostProbe = new(() => new HostProbe(paths, Runner, LoggerFactory.CreateLogger<HostProbe>())
        {
            // Get-VzHost reports whether each OCI runtime can really run a container here.
            RuntimeTrial = (info, ct) => Containers.RuntimeTrialAsync(info, ct),
        });
        cgroups = new(() => CgroupBackends.ForHost());
        containers = new(() => new ContainerService(paths, Store, Runner,
            new TemplateStore(paths, Runner, LoggerFactory.CreateLogger<TemplateStore>()),
            new NetworkSetup(Runner, LoggerFactory.CreateLogger<NetworkSetup>()),
            () => Cgroups,
            LoggerFactory.CreateLogger<ContainerService>()));
    }

    public VzPaths Paths { get; }
    public ILoggerFactory LoggerFactory { get; }
    public ProcessRunner Runner { get; }
    public VeStore Store { get; }
    public HostProbe Host => hostProbe.Value;

    /// <summary>
    /// The host's cgroup backend (v1 or v2), shared by containers and VMs: groups are paths under
    /// <see cref="VzPaths.CgroupParent"/>, e.g. <c>{CgroupParent}/ct-&lt;id&gt;</c> or <c>{CgroupParent}/vm-&lt;id&gt;</c>.
    /// </summary>
    public ICgroupBackend Cgroups => cgroups.Value;

    /// <summary>System containers (and their templates, cgroups and network plumbing).</summary>
    public ContainerService Containers => containers.Value;
}
