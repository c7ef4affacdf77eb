using System.Management.Automation;
using Virtuozzo.Engine.Concurrency;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Starts containers: their init runs as PID 1 with the configured limits and network.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class StartVzContainerCommand : ContainerCmdlet
{
    [Parameter] public SwitchParameter PassThru { get; set; }

    /// <summary>How many containers are worked on at once over a pipeline (default: four per CPU).</summary>
    [Parameter][ValidateRange(1, 1024)] public int ThrottleLimit { get; set; } = WorkThrottle.DefaultLimit;


    protected override void ProcessContainer(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, "Start container")) return;
        var engine = Engine;
        var progress = Progress;
        var id = record.Id;
        RunConcurrently(ThrottleLimit, record.DisplayName, ct => engine.Containers.StartAsync(id, progress, ct), info => { if (PassThru) WriteObject(info); });
    }
}
