namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// The host service's metrics endpoint (Set-VzHost -MetricsEnabled, -MetricsAddress): off unless enabled, on
/// loopback unless an address that is not local was allowed explicitly.
/// </summary>
public sealed record MetricsSettings
{
    public const string DefaultAddress = "127.0.0.1:9784";

    public bool Enabled { get; init; }
    /// <summary>host:port, [v6]:port; see <see cref="MetricsAddress"/>.</summary>
    public string Address { get; init; } = DefaultAddress;
    /// <summary>Set by -AllowRemoteMetrics: the address may be one other hosts reach (the endpoint has no authentication).</summary>
    public bool AllowRemote { get; init; }
}
