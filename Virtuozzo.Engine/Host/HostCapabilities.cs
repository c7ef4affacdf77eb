namespace Virtuozzo.Engine.Host;

/// <summary>
/// What the slow probes found (trial guests, trial containers, versions). Cached with its age, in memory and in
/// the run folder, because it changes only when packages or the kernel change.
/// </summary>
public sealed record HostCapabilities
{
    public DateTimeOffset ProbedAt { get; init; }

    /// <summary>The engine build that probed: a newer module probes again (it may probe more, or differently).</summary>
    public string ProbeVersion { get; init; } = "";
    public string Kernel { get; init; } = "";
    public bool KvmDevicePresent { get; init; }
    public bool KvmUsable { get; init; }
    public string? KvmReason { get; init; }
    public bool TcgAvailable { get; init; }
    public string? TcgReason { get; init; }
    public string? QemuVersion { get; init; }
    public string? QemuImgVersion { get; init; }
    public IReadOnlyList<OciRuntimeInfo> ContainerRuntimes { get; init; } = [];
    public string? CriuVersion { get; init; }
    public bool CriuUsable { get; init; }
    public string? CriuReason { get; init; }
}
