using System.Management.Automation;
using Virtuozzo.Engine.Network.Firewall;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Shows a VE's firewall: on or off, default policies, rule count, anti-spoofing sources and default-policy counters.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzFirewall")]
[OutputType(typeof(VeFirewallInfo))]
public sealed class GetVzFirewallCommand : Infrastructure.VzCmdlet
{
    /// <summary>The VE (container or VM) by name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("VeName")]
    public string[] Name { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
            ForItem(name, () => WriteObject(Run(() => Engine.Firewall.Get(name))));
    }
}
