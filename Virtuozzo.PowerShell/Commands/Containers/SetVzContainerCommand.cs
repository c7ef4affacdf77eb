using System.Management.Automation;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Changes a container's resources, hostname, DNS and addresses; live on a running container (prlctl set).</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class SetVzContainerCommand : ContainerCmdlet, IDynamicParameters
{
    private readonly ContainerSettingsParameters settings = new();

    [Parameter] public SwitchParameter PassThru { get; set; }

    /// <summary>The settings shared with New-VzContainer (<see cref="ContainerSettingsParameters"/>).</summary>
    public object GetDynamicParameters() => settings;

    protected override void ProcessContainer(VeRecord record)
    {
        var changes = settings.ToChanges();
        if (changes.IsEmpty || !ShouldProcess(record.DisplayName, "Change container settings")) return;
        var engine = Engine;
        var info = Run(ct => engine.Containers.SetAsync(record.Id, changes, ct));
        if (PassThru) WriteObject(info);
    }
}
