namespace Virtuozzo.Engine.Network;

/// <summary>What New-VzNetwork and Set-VzNetwork ask for; null means "not given" (Set: leave it alone).</summary>
public sealed class VirtualNetworkChanges
{
    public string? Bridge { get; init; }
    public string? HostAddress { get; init; }
    public bool? Nat { get; init; }
    public bool? Dhcp { get; init; }
    public string? DhcpRange { get; init; }
    public string? Uplink { get; init; }
}
