using System.Management.Automation;
using Virtuozzo.Engine.Migration;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Moves a virtual machine to another host over SSH: live with its local disks when it runs, offline when it is stopped.</para>
/// </summary>
[Cmdlet(VerbsCommon.Move, "VzVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NameSet)]
[OutputType(typeof(MigrationResult))]
public sealed class MoveVzVmCommand : VzVmCmdlet, IDynamicParameters
{
    /// <summary>Move a running VM offline: shut it down, copy it, start it on the destination.</summary>
    [Parameter]
    public SwitchParameter Offline { get; set; }

    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>Seconds a live move may go without progress (disk mirror or RAM sent) before it is cancelled and rolled back.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int StallTimeout { get; set; }

    private readonly MigrationDestinationParameters destination = new();

    /// <summary>Where to move: DestinationHost, Port, UserName, KeyFilePath (<see cref="MigrationDestinationParameters"/>).</summary>
    public object GetDynamicParameters() => destination;

    protected override void ProcessVm(VeRecord record)
    {
        var dest = destination.ToDestination();
        if (!ShouldProcess(record.DisplayName, $"Move virtual machine to {dest}{(Offline ? " (offline)" : "")}")) return;
        var service = MigrationCmdlets.Service(Engine);
        var (id, offline) = (record.Id, Offline.IsPresent);
        TimeSpan? stall = StallTimeout > 0 ? TimeSpan.FromSeconds(StallTimeout) : null;
        RunOrStartJob(AsJob, $"Move-VzVm {record.DisplayName} {dest}", (progress, ct) => service.MoveVmAsync(id, dest, offline, progress, ct, stall));
    }
}
