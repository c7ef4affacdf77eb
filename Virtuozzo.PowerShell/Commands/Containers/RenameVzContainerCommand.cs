using System.Management.Automation;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Gives a container a new name.</para>
/// </summary>
[Cmdlet(VerbsCommon.Rename, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class RenameVzContainerCommand : ContainerCmdlet
{
    /// <summary>The new name.</summary>
    [Parameter(Mandatory = true, Position = 1)] public string NewName { get; set; } = "";

    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessContainer(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Rename container to {NewName}")) return;
        var engine = Engine;
        var info = Run(ct => engine.Containers.RenameAsync(record.Id, NewName, ct));
        if (PassThru) WriteObject(info);
    }
}
