namespace Virtuozzo.Engine.Network;

/// <summary>What Get-VzNetwork shows: the stored network and whether it is up on the host now.</summary>
public sealed class VirtualNetworkInfo
{
    public string Name { get; init; } = "";
    public VirtualNetworkType Type { get; init; }
    public string Bridge { get; init; } = "";
    public string? HostAddress { get; init; }
    public bool Nat { get; init; }
    public bool Dhcp { get; init; }
    public string? DhcpRange { get; init; }
    public string? Uplink { get; init; }

    /// <summary>The bridge exists and is up.</summary>
    public bool IsUp { get; init; }

    /// <summary>The dnsmasq serving its DHCP, when it runs.</summary>
    public int? DhcpProcessId { get; init; }

    /// <summary>Names of the VEs whose NIC is on this network.</summary>
    public IReadOnlyList<string> VeNames { get; init; } = [];

    public DateTimeOffset CreatedAt { get; init; }
}
