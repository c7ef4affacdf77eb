namespace Virtuozzo.Engine.Network.Firewall;

/// <summary>
/// What the ruleset needs to know of one VE with its firewall on: how its packets are recognised (its MACs on a
/// bridge, its host-routed interfaces, its addresses) and what its rules say.
/// </summary>
/// <param name="Id">The VE's id; its chains are named after it.</param>
/// <param name="Name">The VE's name (for messages).</param>
/// <param name="Settings">Its stored firewall.</param>
/// <param name="Macs">MAC addresses of its bridged NICs (lower case).</param>
/// <param name="Addresses">Its configured IP addresses, bare (no prefix); empty for a VM whose guest picks its own.</param>
/// <param name="BridgePorts">Host-side interfaces of its NICs that sit on a bridge (veth host ends, taps).</param>
/// <param name="RoutedInterfaces">Host-side interfaces of its host-routed NICs.</param>
public sealed record FirewalledVe(
    Guid Id,
    string Name,
    FirewallSettings Settings,
    IReadOnlyList<string> Macs,
    IReadOnlyList<string> Addresses,
    IReadOnlyList<string> BridgePorts,
    IReadOnlyList<string> RoutedInterfaces)
{
    /// <summary>"ve-" + 12 hex digits of the id; the chain set of one VE is this name plus "-in" and "-out".</summary>
    public string ChainPrefix => "ve-" + Id.ToString("N")[..12];

    public IEnumerable<string> V4 => Addresses.Where(a => !a.Contains(':'));
    public IEnumerable<string> V6 => Addresses.Where(a => a.Contains(':'));
}
