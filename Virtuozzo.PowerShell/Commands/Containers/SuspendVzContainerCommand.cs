using System.Management.Automation;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Freezes every process of running containers (cgroup freezer).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Suspend, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class SuspendVzContainerCommand : ContainerCmdlet
{
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessContainer(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, "Suspend container")) return;
        var engine = Engine;
        var info = Run(ct => engine.Containers.SuspendAsync(record.Id, ct));
        if (PassThru) WriteObject(info);
    }
}
