using System.Management.Automation;
using Virtuozzo.Engine.Migration;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Moves a container to another host over SSH: a running one is copied, stopped, copied again and started there.</para>
/// </summary>
[Cmdlet(VerbsCommon.Move, "VzContainer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Name")]
[OutputType(typeof(MigrationResult))]
public sealed class MoveVzContainerCommand : ContainerCmdlet, IDynamicParameters
{
    /// <summary>
    /// Names the offline path explicitly (as pct migrate --restart): stop, copy, start on the destination. It is also
    /// the only path: live container migration through CRIU is refused (see the help).
    /// </summary>
    [Parameter]
    public SwitchParameter Restart { get; set; }

    [Parameter]
    public SwitchParameter AsJob { get; set; }

    private readonly MigrationDestinationParameters destination = new();

    /// <summary>Where to move: DestinationHost, Port, UserName, KeyFilePath (<see cref="MigrationDestinationParameters"/>).</summary>
    public object GetDynamicParameters() => destination;

    protected override void ProcessContainer(VeRecord record)
    {
        var dest = destination.ToDestination();
        if (!ShouldProcess(record.DisplayName, $"Move container to {dest}")) return;
        var service = MigrationCmdlets.Service(Engine);
        var id = record.Id;
        RunOrStartJob(AsJob, $"Move-VzContainer {record.DisplayName} {dest}", (progress, ct) => service.MoveContainerAsync(id, dest, progress, ct));
    }
}
