using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Snapshots;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// Base of Restore-VzSnapshot and Remove-VzSnapshot: a snapshot named by -VeName and -Name (also bound by property
/// name, so deserialized snapshots from remoting work), or piped VeSnapshotInfo objects.
/// </summary>
public abstract class SnapshotCmdlet : VzCmdlet
{
    protected const string NameSet = "Name";
    protected const string InputObjectSet = "InputObject";

    /// <summary>The VM or container (exact name).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [Alias("VmName", "ContainerName")]
    [ArgumentCompleter(typeof(Completion.VeNameCompleter))]
    public string VeName { get; set; } = "";

    /// <summary>The snapshot's name.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [Alias("SnapshotName")]
    [ArgumentCompleter(typeof(Completion.SnapshotNameCompleter))]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    public VeSnapshotInfo[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        var targets = ParameterSetName == InputObjectSet
            ? InputObject.Select(s => (Ve: (object)s.VeId, s.Name))
            : [((object)VeName, Name)];
        foreach (var (ve, snapshot) in targets)
        {
            ForItem(snapshot, () =>
            {
                var record = ve is Guid id
                    ? Engine.Store.TryGet(id) ?? throw VeSelector.AnyNotFound($"No VE with id {id} exists on this host.", id)
                    : Engine.Store.TryFind((string)ve) ?? throw VeSelector.AnyNotFound($"No VM or container named '{ve}' exists on this host.", ve);
                ProcessSnapshot(record, For(record), snapshot);
            });
        }
    }

    /// <summary>Does the work for one snapshot of one VE.</summary>
    protected abstract void ProcessSnapshot(VeRecord record, IVeSnapshots snapshots, string snapshotName);

    /// <summary>The snapshot service of the VE's kind.</summary>
    protected IVeSnapshots For(VeRecord record) => SnapshotServices.For(Engine, record);
}

/// <summary>Picks the snapshot service of a VE's kind.</summary>
internal static class SnapshotServices
{
    /// <summary>The service for the VE's kind, or null for a VE without a readable config.</summary>
    public static IVeSnapshots? TryFor(Virtuozzo.Engine.VzEngine engine, VeRecord record) => record.Config?.Type switch
    {
        VeType.VirtualMachine => engine.Vms.Snapshots,
        VeType.Container => engine.Containers.Snapshots,
        _ => null,
    };

    public static IVeSnapshots For(Virtuozzo.Engine.VzEngine engine, VeRecord record) => TryFor(engine, record)
        ?? throw new Virtuozzo.Engine.Errors.VzInvalidStateException("VzSnapshotUnsupported",
            $"'{record.DisplayName}' has no readable configuration or is of a kind without snapshots.", record.DisplayName);
}
