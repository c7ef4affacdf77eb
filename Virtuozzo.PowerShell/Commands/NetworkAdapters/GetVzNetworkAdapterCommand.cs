using System.Management.Automation;
using Virtuozzo.Engine.Network.Adapters;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Lists the network adapters of containers and VMs: network, MAC, addresses, link state, traffic.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzNetworkAdapter", DefaultParameterSetName = NameSet)]
[OutputType(typeof(NetworkAdapterInfo))]
public sealed class GetVzNetworkAdapterCommand : NetworkAdapterCmdlet
{
    /// <summary>The VE's name; wildcards allowed. All VEs when left out.</summary>
    [Parameter(ParameterSetName = NameSet, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.VeNameCompleter))]
    [SupportsWildcards]
    public string[]? VeName { get; set; }

    /// <summary>The adapter names to list; wildcards allowed. All when left out.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var patterns = Name?.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
        foreach (var ve in SelectVes(VeName))
        {
            if (ve.Config is null) continue; // half-made and unreadable VEs have no adapters to show
            ForItem(ve.DisplayName, () =>
            {
                var adapters = Engine.NetworkAdapters;
                foreach (var a in Run(() => adapters.List(ve.Id)))
                    if (patterns is null || patterns.Any(p => p.IsMatch(a.Name))) WriteObject(a);
            });
        }
    }
}
