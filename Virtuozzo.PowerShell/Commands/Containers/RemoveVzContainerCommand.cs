using System.Management.Automation;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Deletes stopped containers and all their files.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name", ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveVzContainerCommand : ContainerCmdlet
{
    /// <summary>Remove without asking for confirmation.</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    /// <summary>-Force skips the confirmation prompt, never -WhatIf.</summary>
    private bool Confirmed(string target, string action) =>
        (Force && !MyInvocation.BoundParameters.ContainsKey("WhatIf")) || ShouldProcess(target, action);

    protected override void ProcessContainer(VeRecord record)
    {
        if (!Confirmed(record.DisplayName, "Remove container and all its files")) return;
        var engine = Engine;
        Run(ct => engine.Containers.RemoveAsync(record.Id, force: false, ct));
    }
}
