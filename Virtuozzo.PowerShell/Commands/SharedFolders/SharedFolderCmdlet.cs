using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// Base of the shared folder cmdlets. Each names the VE (container or VM) by -VeName (wildcards) or -VeId, both bound by
/// property name, so SharedFolderInfo objects (also deserialized ones) pipe from Get-VzSharedFolder into Remove-VzSharedFolder.
/// </summary>
public abstract class SharedFolderCmdlet : VzCmdlet
{
    protected const string NameSet = "VeName";
    protected const string IdSet = "VeId";

    /// <summary>The VEs named: containers and VMs alike; a name or id that matches none is an error for it.</summary>
    protected IEnumerable<VeRecord> SelectVes(string[]? names, Guid[]? ids) =>
        VeSelector.SelectAny(Engine.Store, names, ids, (ex, target) => WriteVzError(ex, target));
}
