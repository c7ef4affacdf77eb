using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Removes firewall rules from a VE; flows a removed allow let through are cut at once (their conntrack entries go too).</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzFirewallRule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(Virtuozzo.Engine.Network.Firewall.VeFirewallInfo))]
public sealed class RemoveVzFirewallRuleCommand : VzCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string VeName { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    public string[] Name { get; set; } = [];

    /// <summary>Writes the VE's firewall (Get-VzFirewall's view) after the removal.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
            ForItem(name, () =>
            {
                if (!ShouldProcess(VeName, $"Remove firewall rule '{name}'")) return;
                var firewall = Engine.Firewall;
                Run(ct => firewall.RemoveRuleAsync(VeName, name, ct));
            });
        if (PassThru) ForItem(VeName, () => WriteObject(Run(() => Engine.Firewall.Get(VeName))));
    }
}
