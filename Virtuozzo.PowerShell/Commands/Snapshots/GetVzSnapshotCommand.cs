using System.Management.Automation;
using Virtuozzo.Commands.Completion;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Snapshots;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Lists the snapshots of virtual machines and containers, with their parents and consistency.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzSnapshot", DefaultParameterSetName = VeNameSet)]
[OutputType(typeof(VeSnapshotInfo))]
public sealed class GetVzSnapshotCommand : VzCmdlet
{
    private const string VeNameSet = "VeName";
    private const string VeIdSet = "VeId";

    /// <summary>VMs or containers whose snapshots to list (wildcards); all VEs when left out.</summary>
    [Parameter(Position = 0, ParameterSetName = VeNameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [Alias("VmName", "ContainerName")]
    [ArgumentCompleter(typeof(VeNameCompleter))]
    public string[]? VeName { get; set; }

    /// <summary>VEs by id; Get-VzVm and Get-VzContainer output binds here through its Id.</summary>
    [Parameter(Mandatory = true, ParameterSetName = VeIdSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "VmId")]
    public Guid[] VeId { get; set; } = [];

    /// <summary>Snapshot names to show (wildcards).</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SnapshotNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var engine = Engine;
        var records = VeSelector.SelectAny(engine.Store, ParameterSetName == VeNameSet ? VeName : null,
            ParameterSetName == VeIdSet ? VeId : null, (ex, target) => WriteVzError(ex, target)).Where(r => r.Config is not null).ToList();
        var patterns = Name?.Select(n => WildcardPattern.Get(n, WildcardOptions.None)).ToList();
        var explicitVe = ParameterSetName == VeIdSet || VeName is { Length: > 0 };
        // Each VE's list is read once, before anything is written: a Remove-VzSnapshot downstream acts while this runs.
        var lists = new List<(Virtuozzo.Engine.Store.VeRecord Record, IReadOnlyList<VeSnapshotInfo> Snapshots)>();
        foreach (var record in records)
            ForItem(record.DisplayName, () => lists.Add((record, SnapshotServices.TryFor(engine, record)?.List(record.Id) ?? [])));
        foreach (var (_, all) in lists)
            foreach (var s in all.Where(s => patterns is null || patterns.Any(p => p.IsMatch(s.Name)))) WriteObject(s);
        // A snapshot name without wildcards that a named VE lacks is an error, as Get-VzVm does for VMs.
        if (explicitVe && Name is not null)
            foreach (var n in Name.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)))
                foreach (var (record, _) in lists.Where(l => l.Snapshots.All(s => s.Name != n)))
                    WriteVzError(new Virtuozzo.Engine.Errors.VzNotFoundException("VzSnapshotNotFound", $"The VE '{record.DisplayName}' has no snapshot named '{n}'.", n)
                    { RecommendedAction = $"List its snapshots with Get-VzSnapshot -VeName '{record.DisplayName}'." }, n);
    }
}
