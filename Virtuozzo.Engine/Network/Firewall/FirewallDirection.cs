namespace Virtuozzo.Engine.Network.Firewall;

/// <summary>Which way a rule looks, seen from the VE.</summary>
public enum FirewallDirection
{
    /// <summary>Packets to the VE; the remote address is their source.</summary>
    Inbound,

    /// <summary>Packets from the VE; the remote address is their destination.</summary>
    Outbound,
}
