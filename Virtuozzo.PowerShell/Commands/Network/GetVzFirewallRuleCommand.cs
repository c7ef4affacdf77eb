using System.Management.Automation;
using Virtuozzo.Engine.Network.Firewall;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Lists a VE's firewall rules in evaluation order, with how many packets each matched.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzFirewallRule")]
[OutputType(typeof(VeFirewallRule))]
public sealed class GetVzFirewallRuleCommand : Infrastructure.VzCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string VeName { get; set; } = "";

    /// <summary>Rule names; wildcards allowed.</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        ForItem(VeName, () =>
        {
            var rules = Run(() => Engine.Firewall.GetRules(VeName));
            var patterns = (Name ?? ["*"]).Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
            WriteObject(rules.Where(r => patterns.Any(p => p.IsMatch(r.Name))), enumerateCollection: true);
        });
    }
}
