using Virtuozzo.Engine.Service;

namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// The host service's last sample, written atomically to its run folder after each pass, so Get-VzVm and
/// Get-VzContainer show CPU percent and memory at the cost of one small file read (no sampling of their own).
/// </summary>
public sealed record UsageSnapshot
{
    /// <summary>Older than this the snapshot is not shown: the service is gone or stalled.</summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(20);

    public DateTimeOffset SampledAt { get; init; }
    public List<UsageSnapshotEntry> Ves { get; init; } = [];

    public static string PathFor(HostServicePaths paths) => Path.Combine(paths.Directory, "usage.json");

    /// <summary>The snapshot when it is fresh, else null (no service, or an old file).</summary>
    public static UsageSnapshot? ReadFresh(HostServicePaths paths, DateTimeOffset? now = null)
    {
        var s = HostServiceJson.TryRead<UsageSnapshot>(PathFor(paths));
        return s is not null && (now ?? DateTimeOffset.UtcNow) - s.SampledAt < FreshFor ? s : null;
    }

    /// <summary>The entry of the VE whose process is <paramref name="pid"/>: a restarted VE shows nothing until sampled again.</summary>
    public UsageSnapshotEntry? Find(Guid id, int? pid) =>
        pid is > 0 ? Ves.Find(e => e.Id == id && e.ProcessId == pid) : null;

    public void Write(HostServicePaths paths) => HostServiceJson.Write(PathFor(paths), this);
}

/// <summary>One running VE in the snapshot: CPU over the service's last interval, memory it holds now.</summary>
public sealed record UsageSnapshotEntry(Guid Id, int ProcessId, double CpuPercent, long MemoryResident);
