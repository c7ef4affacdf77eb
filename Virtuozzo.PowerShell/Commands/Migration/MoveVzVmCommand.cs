using System.Management.Automation;
using Virtuozzo.Engine.Migration;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Moves a virtual machine to another host over SSH: live with its local disks when it runs, offline when it is stopped.</para>
/// </summary>
[Cmdlet(VerbsCommon.Move, "VzVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NameSet)]
[OutputType(typeof(MigrationResult))]
public sealed class MoveVzVmCommand : VzVmCmdlet
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

    /// <summary>The host to move to: a name ssh resolves (or an alias of the ssh client config).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    [Alias("HostName")]
    public string DestinationHost { get; set; } = "";

    [Parameter]
    [ValidateRange(1, 65535)]
    public int Port { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? UserName { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyFilePath { get; set; }

    private MigrationDestination Destination() => new(DestinationHost, Port > 0 ? Port : null, UserName, KeyFilePath);

    protected override void ProcessVm(VeRecord record)
    {
        var dest = Destination();
        if (!ShouldProcess(record.DisplayName, $"Move virtual machine to {dest}{(Offline ? " (offline)" : "")}")) return;
        var service = MigrationCmdlets.Service(Engine);
        var (id, offline) = (record.Id, Offline.IsPresent);
        TimeSpan? stall = StallTimeout > 0 ? TimeSpan.FromSeconds(StallTimeout) : null;
        RunOrStartJob(AsJob, $"Move-VzVm {record.DisplayName} {dest}", (progress, ct) => service.MoveVmAsync(id, dest, offline, progress, ct, stall));
    }
}
