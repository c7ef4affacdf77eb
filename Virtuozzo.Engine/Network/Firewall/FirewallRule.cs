namespace Virtuozzo.Engine.Network.Firewall;

/// <summary>
/// One rule of a VE's firewall, stored as validated text (protocol name, port lists, CIDRs) so the YAML stays
/// readable; <see cref="FirewallRuleValidator"/> is the only way values get in.
/// </summary>
public sealed class FirewallRule
{
    /// <summary>Unique within the VE; chosen by the user or made from the rule's position.</summary>
    public string Name { get; set; } = "";

    public FirewallDirection Direction { get; set; }

    public FirewallAction Action { get; set; }

    /// <summary>any, tcp, udp, icmp or icmpv6.</summary>
    public string Protocol { get; set; } = "any";

    /// <summary>Ports on the VE's side ("22", "8000-8080"); tcp and udp only.</summary>
    public List<string> LocalPorts { get; set; } = [];

    /// <summary>Ports on the remote side; tcp and udp only.</summary>
    public List<string> RemotePorts { get; set; } = [];

    /// <summary>Remote addresses or networks in CIDR form, IPv4 and IPv6 alike; none means any.</summary>
    public List<string> RemoteAddresses { get; set; } = [];
}
