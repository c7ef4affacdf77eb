using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Containers.Cgroup;
using Virtuozzo.Engine.Containers.Runtime;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// What a container is doing right now, as a listing shows it: whether its init runs, and its cgroup counters.
/// <para>
/// This is the one place listings read live state (Get-VzContainer, the memory plan's activity, admission), so it
/// stays cheap at density: the init from the run folder and one <c>/proc/&lt;pid&gt;/stat</c>, then one read per
/// cgroup file whose figure is shown (memory, peak, OOM kills, CPU time, tasks, freezer). No subprocess, no walk of
/// /proc, nothing about any other container; a stopped container costs the run folder check only.
/// </para>
/// </summary>
/// <param name="Running">The recorded init is alive (same pid and start time).</param>
/// <param name="Pid">The init's host pid (also of an init that ended, for the stop reason), 0 when none was recorded.</param>
/// <param name="Runtime">The runtime that started it, when a start got that far.</param>
/// <param name="Stats">The cgroup counters (<see cref="CgroupStats.Empty"/> when not running).</param>
public sealed record ContainerLiveState(bool Running, int Pid, string? Runtime, CgroupStats Stats)
{
    /// <summary>Running and its cgroup frozen (Suspend-VzContainer).</summary>
    public bool Frozen => Running && Stats.Frozen;

    /// <summary>Below this many, threads cost more than they save: the reads run on the caller's thread.</summary>
    private const int ParallelFrom = 32;

    /// <summary>
    /// Reads the live state of each of <paramref name="ids"/>. The reads of one container do not depend on another's,
    /// and a listing of hundreds spends its time in the kernel's open/read/close of small files, so they are spread
    /// over a few threads (twice the CPUs: on a loaded host each thread also gets its own share of CPU time). An id
    /// whose read threw is left out, so the caller reads it again alone and reports that error for that container.
    /// </summary>
    internal static IReadOnlyDictionary<Guid, ContainerLiveState> ReadMany(IReadOnlyList<Guid> ids, Func<Guid, ContainerLiveState> read)
    {
        var states = new ContainerLiveState?[ids.Count];
        void ReadOne(int i)
        {
            try { states[i] = read(ids[i]); }
            catch (Exception) { states[i] = null; } // read again alone by the caller, which reports it
        }
        if (ids.Count < ParallelFrom) for (var i = 0; i < ids.Count; i++) ReadOne(i);
        else
        {
            var threads = Math.Max(2, Environment.ProcessorCount * 2);
            var chunk = Math.Max(8, ids.Count / (threads * 4));
            Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, ids.Count, chunk),
                new ParallelOptions { MaxDegreeOfParallelism = threads },
                range => { for (var i = range.Item1; i < range.Item2; i++) ReadOne(i); });
        }
        var result = new Dictionary<Guid, ContainerLiveState>(ids.Count);
        for (var i = 0; i < ids.Count; i++) if (states[i] is { } s) result[ids[i]] = s;
        return result;
    }

    internal static ContainerLiveState Read(ContainerInit init, ContainerCgroup cgroup, Guid id)
    {
        var (running, pid, runtime) = init.Live();
        return new ContainerLiveState(running, pid, runtime, running ? cgroup.ReadStats(id) : CgroupStats.Empty);
    }
}
