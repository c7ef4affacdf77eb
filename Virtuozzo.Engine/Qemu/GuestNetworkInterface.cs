namespace Virtuozzo.Engine.Qemu;

/// <summary>One network interface inside the guest, as the agent reports it.</summary>
public sealed record GuestNetworkInterface
{
    public string VmName { get; init; } = "";
    public string Name { get; init; } = "";
    public string? MacAddress { get; init; }
    /// <summary>Addresses with prefix length ("198.18.0.15/24").</summary>
    public IReadOnlyList<string> IPAddresses { get; init; } = [];
    /// <summary>The default route's gateway through this interface, from the guest's routing table; null when none (or unreadable).</summary>
    public string? Gateway { get; init; }
    /// <summary>The DNS servers of the guest's /etc/resolv.conf (the guest's, not this interface's alone).</summary>
    public IReadOnlyList<string> Nameserver { get; init; } = [];
}
