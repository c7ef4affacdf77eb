using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Network.Firewall;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Turns a VE's firewall on or off, sets its default policies, or replaces all its rules in one transaction.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzFirewall", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VeFirewallInfo))]
public sealed class SetVzFirewallCommand : VzCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("VeName")]
    public string[] Name { get; set; } = [];

    /// <summary>-Enabled turns filtering on, -Enabled:$false off.</summary>
    [Parameter]
    public SwitchParameter Enabled { get; set; }

    [Parameter]
    public FirewallAction? DefaultInbound { get; set; }

    [Parameter]
    public FirewallAction? DefaultOutbound { get; set; }

    /// <summary>The complete new rule list (replaces every rule at once; an empty array removes them all).</summary>
    [Parameter]
    [AllowEmptyCollection]
    public FirewallRule[]? Rule { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var changes = new FirewallChanges
        {
            Enabled = MyInvocation.BoundParameters.ContainsKey(nameof(Enabled)) ? Enabled.IsPresent : null,
            DefaultInbound = DefaultInbound, DefaultOutbound = DefaultOutbound, Rules = Rule,
        };
        foreach (var name in Name)
            ForItem(name, () =>
            {
                if (!ShouldProcess(name, "Change firewall")) return;
                var firewall = Engine.Firewall;
                var result = Run(ct => firewall.SetAsync(name, changes, ct));
                if (PassThru) WriteObject(result);
            });
    }
}
