using System.Management.Automation;
using Virtuozzo.Engine.Migration;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Moves a container to another host over SSH: a running one is copied, stopped, copied again and started there.</para>
/// </summary>
[Cmdlet(VerbsCommon.Move, "VzContainer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Name")]
[OutputType(typeof(MigrationResult))]
public sealed class MoveVzContainerCommand : ContainerCmdlet
{
    /// <summary>
    /// Names the offline path explicitly (as pct migrate --restart): stop, copy, start on the destination. It is also
    /// the only path: live container migration through CRIU is refused (see the help).
    /// </summary>
    [Parameter]
    public SwitchParameter Restart { get; set; }

    [Parameter]
    public SwitchParameter AsJob { get; set; }

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

    protected override void ProcessContainer(VeRecord record)
    {
        var dest = Destination();
        if (!ShouldProcess(record.DisplayName, $"Move container to {dest}")) return;
        var service = MigrationCmdlets.Service(Engine);
        var id = record.Id;
        RunOrStartJob(AsJob, $"Move-VzContainer {record.DisplayName} {dest}", (progress, ct) => service.MoveContainerAsync(id, dest, progress, ct));
    }
}
