using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Service;

namespace Virtuozzo.Engine.Qemu;

/// <summary>
/// What the host service last learned about a running VM (balloon and guest tools), cached in the VM's run folder so
/// Get-VzVm shows it at once without a QMP or agent round trip. Tied to the QEMU pid: a cache from an earlier run of
/// the VM is ignored, and the run folder goes when the VM stops.
/// </summary>
public sealed record VmLiveState
{
    /// <summary>Older than this the cache is not shown as live (the service is gone or the VM hangs).</summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(30);

    public int ProcessId { get; init; }
    public DateTimeOffset MemoryUpdatedAt { get; init; }
    /// <summary>Memory the guest has now (query-balloon actual).</summary>
    public long? BalloonActual { get; init; }
    /// <summary>The last balloon target the manager sent (null: none yet this run).</summary>
    public long? BalloonTarget { get; init; }
    public long? WorkingSet { get; init; }
    public long? GuestAvailable { get; init; }
    /// <summary>QEMU's resident memory on the host (VmRSS).</summary>
    public long? HostResident { get; init; }
    public string? LastDecision { get; init; }
    public string? LastDecisionReason { get; init; }
    public DateTimeOffset? LastDecisionAt { get; init; }

    public DateTimeOffset? GuestToolsUpdatedAt { get; init; }
    public GuestToolsState GuestToolsState { get; init; }
    public string? OsName { get; init; }
    public string? OsVersion { get; init; }
    public string? KernelRelease { get; init; }
    public IReadOnlyList<string> IpAddresses { get; init; } = [];

    public static string PathFor(VmRuntimePaths paths) => System.IO.Path.Combine(paths.RunDirectory, "live.json");

    /// <summary>The cache of the QEMU process <paramref name="pid"/>, or null when missing, foreign or unreadable.</summary>
    public static VmLiveState? Read(VmRuntimePaths paths, int? pid)
    {
        if (pid is null) return null;
        var state = HostServiceJson.TryRead<VmLiveState>(PathFor(paths));
        return state?.ProcessId == pid ? state : null;
    }

    public void Write(VmRuntimePaths paths) => HostServiceJson.Write(PathFor(paths), this);
}
