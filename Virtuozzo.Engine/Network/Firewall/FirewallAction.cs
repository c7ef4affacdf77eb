namespace Virtuozzo.Engine.Network.Firewall;

/// <summary>What a rule or a default policy does with a packet it matches.</summary>
public enum FirewallAction
{
    /// <summary>Lets the packet pass this VE's filter (the peer's own filter still applies).</summary>
    Accept,

    /// <summary>Discards the packet silently.</summary>
    Drop,

    /// <summary>Discards the packet and tells the sender: a TCP reset for TCP, ICMP "administratively prohibited" otherwise.</summary>
    Reject,
}
