namespace Virtuozzo.Engine.Store;

/// <summary>
/// One added network adapter in a settings file (Export/Import-VzConfig): what Add-VzNetworkAdapter takes. Its slot
/// and hotplug port are this host's device layout, not a setting, so they stay out of the file.
/// </summary>
public sealed class VeAdapterSettings
{
    public string Name { get; set; } = "";

    /// <summary>The virtual network it joins (New-VzNetwork); it must exist on the importing host.</summary>
    public string Network { get; set; } = "";

    /// <summary>Left out: an adapter of that name keeps its MAC, a new one gets a generated one.</summary>
    public string? MacAddress { get; set; }

    /// <summary>Containers only, in CIDR form.</summary>
    public List<string>? IpAddresses { get; set; }

    /// <summary>Link state; left out is connected.</summary>
    public bool? Connected { get; set; }

    public static VeAdapterSettings From(VeNetworkAdapter a) => new()
    {
        Name = a.Name, Network = a.Network, MacAddress = a.MacAddress,
        IpAddresses = a.IpAddresses is { Count: > 0 } ips ? [.. ips] : null,
        Connected = a.Connected != false,
    };
}
