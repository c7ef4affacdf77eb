using System.Management.Automation;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Deletes containers and all their files; -Force stops a running one first.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name", ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(ContainerInfo))]
public sealed class RemoveVzContainerCommand : ContainerCmdlet
{
    /// <summary>Remove without asking, killing a running container first (prlctl delete --force).</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    /// <summary>Return the removed container as it was just before removal (Hyper-V's convention).</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessContainer(VeRecord record)
    {
        if (!ShouldProcessUnlessForced(Force, record.DisplayName, "Remove container and all its files")) return;
        var engine = Engine;
        var before = PassThru ? engine.Containers.Describe(record) : null;
        Run(ct => engine.Containers.RemoveAsync(record.Id, Force.IsPresent, ct));
        if (before is not null) WriteObject(before with { StateValue = ContainerState.Stopped, InitPid = 0 });
    }
}
