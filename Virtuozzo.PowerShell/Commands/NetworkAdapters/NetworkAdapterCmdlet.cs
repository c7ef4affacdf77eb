using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// Base of the network adapter cmdlets. The VE (container or VM) is named by -VeName (wildcards) or -VeId; -VeId also
/// binds the Id of Get-VzVm and Get-VzContainer output, and both bind NetworkAdapterInfo objects (also deserialized
/// ones), so <c>Get-VzVm web | Add-VzNetworkAdapter -Network backend</c> and
/// <c>Get-VzNetworkAdapter web eth1 | Remove-VzNetworkAdapter</c> both read as they should.
/// </summary>
public abstract class NetworkAdapterCmdlet : VzCmdlet
{
    protected const string NameSet = "VeName";
    protected const string IdSet = "VeId";

    /// <summary>The VE's id (the Id of Get-VzVm and Get-VzContainer output binds here).</summary>
    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    public Guid[]? VeId { get; set; }

    /// <summary>The VEs named: containers and VMs alike; a name or id that matches none is an error for it.</summary>
    protected IEnumerable<VeRecord> SelectVes(string[]? veNames) =>
        VeSelector.SelectAny(Engine.Store, veNames, VeId, (ex, target) => WriteVzError(ex, target));
}
