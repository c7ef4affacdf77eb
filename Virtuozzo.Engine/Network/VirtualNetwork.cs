namespace Virtuozzo.Engine.Network;

/// <summary>A virtual network as stored in <c>&lt;data root&gt;/networks/&lt;name&gt;.yaml</c>.</summary>
public sealed class VirtualNetwork
{
    public string Name { get; set; } = "";

    public VirtualNetworkType Type { get; set; }

    /// <summary>The Linux bridge that carries it; VEs join the network by joining this bridge.</summary>
    public string Bridge { get; set; } = "";

    /// <summary>HostOnly: the host's address on the bridge in CIDR form; it defines the network's subnet.</summary>
    public string? HostAddress { get; set; }

    /// <summary>HostOnly: masquerade the subnet behind the host's other interfaces.</summary>
    public bool Nat { get; set; }

    /// <summary>HostOnly: run dnsmasq on the bridge to lease addresses from <see cref="DhcpRange"/>.</summary>
    public bool Dhcp { get; set; }

    /// <summary>HostOnly with DHCP: "first-last" addresses to lease.</summary>
    public string? DhcpRange { get; set; }

    /// <summary>Bridged: the host interface that joins the bridge.</summary>
    public string? Uplink { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
