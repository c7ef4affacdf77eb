using System.Management.Automation;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Lists virtual networks, with whether each is up and which VEs are on it.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzNetwork")]
[OutputType(typeof(VirtualNetworkInfo))]
public sealed class GetVzNetworkCommand : Infrastructure.VzCmdlet
{
    /// <summary>Network names; wildcards allowed.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var all = Run(() => Engine.Networks.List());
        if (Name is null || Name.Length == 0) { WriteObject(all, enumerateCollection: true); return; }
        foreach (var name in Name)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            var hits = all.Where(n => pattern.IsMatch(n.Name)).ToList();
            if (hits.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                WriteVzError(new VzNotFoundException("VzNetworkNotFound", $"There is no network named '{name}'.", name)
                { RecommendedAction = "See the networks with Get-VzNetwork." }, name);
            WriteObject(hits, enumerateCollection: true);
        }
    }
}
