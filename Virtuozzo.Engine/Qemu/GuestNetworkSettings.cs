namespace Virtuozzo.Engine.Qemu;

/// <summary>What Set-VzVmGuestNetwork changes in a running guest; null (or empty for lists) is left alone.</summary>
public sealed record GuestNetworkSettings
{
    /// <summary>The guest interface (eth0); needed for addresses, DHCP and a gateway.</summary>
    public string? InterfaceName { get; init; }
    /// <summary>Addresses in CIDR form; they replace the interface's addresses.</summary>
    public IReadOnlyList<string> IPAddress { get; init; } = [];
    public string? Gateway { get; init; }
    public IReadOnlyList<string> Nameserver { get; init; } = [];
    /// <summary>Ask a DHCP server for the address instead (not with <see cref="IPAddress"/>).</summary>
    public bool Dhcp { get; init; }
    public string? HostName { get; init; }
}
