using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Migration;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Checks whether a VM or container can move to another host, and lists every reason it cannot.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "VzMigration", DefaultParameterSetName = "Name")]
[OutputType(typeof(MigrationReport))]
public sealed class TestVzMigrationCommand : VzCmdlet, IDynamicParameters
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Name", ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
    public Guid[] Id { get; set; } = [];

    /// <summary>Check an offline move of a running VM (stop, copy, start) instead of a live one.</summary>
    [Parameter]
    public SwitchParameter Offline { get; set; }

    private readonly MigrationDestinationParameters destination = new();

    /// <summary>Where to move: DestinationHost, Port, UserName, KeyFilePath (<see cref="MigrationDestinationParameters"/>).</summary>
    public object GetDynamicParameters() => destination;

    protected override void ProcessRecord()
    {
        var service = MigrationCmdlets.Service(Engine);
        var records = VeSelector.SelectAny(Engine.Store, ParameterSetName == "Name" ? Name : null, ParameterSetName == "Id" ? Id : null, (e, t) => WriteVzError(e, t)).ToList();
        foreach (var record in records)
            ForItem(record.DisplayName, () => WriteObject(Run(ct => service.TestAsync(record.Id, destination.ToDestination(), Offline, ct))));
    }
}
