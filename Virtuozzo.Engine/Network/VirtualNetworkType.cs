namespace Virtuozzo.Engine.Network;

/// <summary>The kinds of virtual network (Hyper-V's External, Internal and Private switches).</summary>
public enum VirtualNetworkType
{
    /// <summary>A bridge that a host interface (the uplink) joins: VEs sit on the uplink's network.</summary>
    Bridged,

    /// <summary>A bridge the host has an address on, optionally with NAT to the outside and DHCP for the VEs.</summary>
    HostOnly,

    /// <summary>A bridge with no host address and no uplink: the VEs on it reach each other and nothing else.</summary>
    Private,
}
