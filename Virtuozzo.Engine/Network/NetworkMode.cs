namespace Virtuozzo.Engine.Network;

/// <summary>How a container's eth0 reaches the host.</summary>
public enum NetworkMode
{
    /// <summary>The host end of the veth joins a bridge (vzbr0 by default), like a veth NETIF in Virtuozzo.</summary>
    Bridged,

    /// <summary>The host routes each address (/32) to the veth and answers ARP for it, like venet.</summary>
    Routed,
}
