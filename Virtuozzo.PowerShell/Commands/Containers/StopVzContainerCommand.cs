using System.Management.Automation;
using Virtuozzo.Engine.Concurrency;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Stops containers gracefully with the init's shutdown signal, or at once with -Kill.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class StopVzContainerCommand : ContainerCmdlet
{
    /// <summary>Seconds to wait for a clean shutdown before the container is killed.</summary>
    [Parameter][ValidateRange(1, 3600)] public int Timeout { get; set; } = 30;

    /// <summary>Kill the container at once (SIGKILL) instead of asking its init to shut down.</summary>
    [Parameter] public SwitchParameter Kill { get; set; }

    [Parameter] public SwitchParameter PassThru { get; set; }

    /// <summary>How many containers are worked on at once over a pipeline (default: four per CPU). Waiting for an init to shut down holds no slot.</summary>
    [Parameter][ValidateRange(1, 1024)] public int ThrottleLimit { get; set; } = WorkThrottle.DefaultLimit;


    protected override void ProcessContainer(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, Kill ? "Kill container" : "Stop container")) return;
        var engine = Engine;
        var (id, kill, timeout) = (record.Id, Kill.IsPresent, TimeSpan.FromSeconds(Timeout));
        RunConcurrently(ThrottleLimit, record.DisplayName, ct => engine.Containers.StopAsync(id, kill, timeout, ct), info => { if (PassThru) WriteObject(info); });
    }
}
