using System.Management.Automation;
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

    protected override void ProcessContainer(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, "Start container")) return;
        var engine = Engine;
        var progress = Progress;
        var info = Run(ct => engine.Containers.StartAsync(record.Id, progress, ct));
        if (PassThru) WriteObject(info);
    }
}
