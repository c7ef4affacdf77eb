namespace Virtuozzo.Engine.Cgroups;

/// <summary>Live usage of one group.</summary>
/// <param name="MemoryCurrent">Bytes charged now.</param>
/// <param name="MemoryPeak">Highest charge seen (0 where the kernel does not track it).</param>
/// <param name="OomKills">Processes the OOM killer killed in the group.</param>
/// <param name="CpuTime">CPU time used by the group's processes.</param>
/// <param name="ProcessCount">Tasks in the group and its children.</param>
/// <param name="Frozen">True while the group is frozen.</param>
public sealed record CgroupStats(long MemoryCurrent, long MemoryPeak, long OomKills, TimeSpan CpuTime, int ProcessCount, bool Frozen)
{
    public static readonly CgroupStats Empty = new(0, 0, 0, TimeSpan.Zero, 0, false);
}
