using System.Management.Automation;
using Virtuozzo.Engine.SharedFolders;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Lists the host folders shared with containers and VMs, and whether each is attached now.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzSharedFolder", DefaultParameterSetName = NameSet)]
[OutputType(typeof(SharedFolderInfo))]
public sealed class GetVzSharedFolderCommand : SharedFolderCmdlet
{
    /// <summary>The VE's name; wildcards allowed. All VEs when left out.</summary>
    [Parameter(ParameterSetName = NameSet, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.VeNameCompleter))]
    [SupportsWildcards]
    public string[]? VeName { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    public Guid[]? VeId { get; set; }

    /// <summary>The share names to list; wildcards allowed. All when left out.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var patterns = Name?.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
        foreach (var ve in SelectVes(VeName, VeId))
        {
            if (ve.Config?.SharedFolders is not { Count: > 0 }) continue; // listing all VEs reads their configs only
            ForItem(ve.DisplayName, () =>
            {
                var engine = Engine;
                foreach (var share in Run(() => engine.SharedFolders.List(ve.Id)))
                    if (patterns is null || patterns.Any(p => p.IsMatch(share.Name))) WriteObject(share);
            });
        }
    }
}
