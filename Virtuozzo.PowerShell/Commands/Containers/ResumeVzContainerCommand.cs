using System.Management.Automation;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Thaws suspended containers.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Resume, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class ResumeVzContainerCommand : ContainerCmdlet
{
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessContainer(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, "Resume container")) return;
        var engine = Engine;
        var info = Run(ct => engine.Containers.ResumeAsync(record.Id, ct));
        if (PassThru) WriteObject(info);
    }
}
