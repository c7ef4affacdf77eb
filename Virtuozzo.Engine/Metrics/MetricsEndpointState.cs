using Virtuozzo.Engine.Service;

namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// What the host service's endpoint does now, in its run folder: Set-VzHost reads it so that re-applying the address
/// the service already listens on is not mistaken for an address in use, and a failed bind is visible.
/// </summary>
public sealed record MetricsEndpointState
{
    public int ProcessId { get; init; }
    public string? Address { get; init; }
    public bool Listening { get; init; }
    public string? Error { get; init; }

    public static string PathFor(HostServicePaths paths) => Path.Combine(paths.Directory, "metrics.json");

    /// <summary>The state written by a service that still runs, else null.</summary>
    public static MetricsEndpointState? ReadLive(HostServicePaths paths)
    {
        var s = HostServiceJson.TryRead<MetricsEndpointState>(PathFor(paths));
        return s is not null && s.ProcessId > 0 && Directory.Exists($"/proc/{s.ProcessId}") ? s : null;
    }

    public void Write(HostServicePaths paths) => HostServiceJson.Write(PathFor(paths), this);
}
