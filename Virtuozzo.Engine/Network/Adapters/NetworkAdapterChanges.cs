namespace Virtuozzo.Engine.Network.Adapters;

/// <summary>What Add-/Set-VzNetworkAdapter asked for; null leaves a setting as it is (or takes the default on add).</summary>
public sealed record NetworkAdapterChanges
{
    public string? Network { get; init; }
    public string? MacAddress { get; init; }
    public IReadOnlyList<string>? IpAddresses { get; init; }
    public bool? Connected { get; init; }
}
