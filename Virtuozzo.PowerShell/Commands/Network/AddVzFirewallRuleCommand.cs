using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Network.Firewall;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Adds a rule to a VE's firewall (direction, protocol, ports, remote addresses, action); it applies at once.</para>
/// </summary>
[Cmdlet(VerbsCommon.Add, "VzFirewallRule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VeFirewallRule))]
public sealed class AddVzFirewallRuleCommand : VzCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string VeName { get; set; } = "";

    /// <summary>The rule's name, unique within the VE.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true)]
    public FirewallDirection Direction { get; set; }

    [Parameter(Mandatory = true)]
    public FirewallAction Action { get; set; }

    /// <summary>Any (default), Tcp, Udp, Icmp or Icmpv6.</summary>
    [Parameter]
    public string Protocol { get; set; } = "any";

    /// <summary>Ports on the VE's side: 22, 8000-8080.</summary>
    [Parameter]
    public string[]? LocalPort { get; set; }

    /// <summary>Ports on the remote side.</summary>
    [Parameter]
    public string[]? RemotePort { get; set; }

    /// <summary>Remote addresses or networks (CIDR), IPv4 or IPv6.</summary>
    [Parameter]
    public string[]? RemoteAddress { get; set; }

    /// <summary>Where the rule goes (1 = first); default last. The first rule that matches decides.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Position { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        ForItem(VeName, () =>
        {
            if (!ShouldProcess(VeName, $"Add {Direction} {Action} firewall rule '{Name}'")) return;
            var rule = new FirewallRule
            {
                Name = Name, Direction = Direction, Action = Action, Protocol = Protocol,
                LocalPorts = [.. LocalPort ?? []], RemotePorts = [.. RemotePort ?? []], RemoteAddresses = [.. RemoteAddress ?? []],
            };
            var firewall = Engine.Firewall;
            var added = Run(ct => firewall.AddRuleAsync(VeName, rule, Position, ct));
            if (PassThru) WriteObject(added);
        });
    }
}
