namespace Virtuozzo.Engine.Qemu;

/// <summary>One network interface inside the guest, as the agent reports it.</summary>
public sealed record GuestNetworkInterface
{
    public string VmName { get; init; } = "";
    public string Name { get; init; } = "";
    public string? MacAddress { get; init; }
    /// <summary>Addresses with prefix length ("198.18.0.15/24").</summary>
    public IReadOnlyList<string> IPAddresses { get; init; } = [];
}
