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
public sealed class TestVzMigrationCommand : VzCmdlet
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

    protected override void ProcessRecord()
    {
        var service = MigrationCmdlets.Service(Engine);
        var records = VeSelector.SelectAny(Engine.Store, ParameterSetName == "Name" ? Name : null, ParameterSetName == "Id" ? Id : null, (e, t) => WriteVzError(e, t)).ToList();
        foreach (var record in records)
            ForItem(record.DisplayName, () => WriteObject(Run(ct => service.TestAsync(record.Id, Destination(), Offline, ct))));
    }
}
