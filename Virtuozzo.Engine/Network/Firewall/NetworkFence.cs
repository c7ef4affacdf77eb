namespace Virtuozzo.Engine.Network.Firewall;

/// <summary>What the ruleset renders for one virtual network: masquerading for NAT, a fence for a private one.</summary>
/// <param name="Bridge">The network's bridge.</param>
/// <param name="MasqueradeSubnet">The subnet (CIDR) masqueraded behind the host's other interfaces; null for none.</param>
/// <param name="Isolated">A private network: nothing is routed into or out of it, and the host takes nothing from it.</param>
public sealed record NetworkFence(string Bridge, string? MasqueradeSubnet, bool Isolated);
