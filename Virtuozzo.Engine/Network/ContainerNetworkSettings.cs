namespace Virtuozzo.Engine.Network;

/// <summary>A container's network: a veth pair whose container end is eth0, attached to a bridge or host-routed.</summary>
public sealed class ContainerNetworkSettings
{
    public NetworkMode Mode { get; set; } = NetworkMode.Bridged;

    /// <summary>The bridge the host end joins in <see cref="NetworkMode.Bridged"/> mode; made on demand.</summary>
    public string Bridge { get; set; } = NetworkSetup.DefaultBridge;

    /// <summary>Addresses of eth0 in CIDR form ("198.18.0.2/24"); none means no network device at all.</summary>
    public List<string> IpAddresses { get; set; } = [];

    /// <summary>Default gateway inside the container (bridged mode); null for none.</summary>
    public string? Gateway { get; set; }

    /// <summary>MAC address of eth0.</summary>
    public string? MacAddress { get; set; }
}
