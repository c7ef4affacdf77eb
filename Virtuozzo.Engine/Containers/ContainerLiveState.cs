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

    internal static ContainerLiveState Read(ContainerInit init, ContainerCgroup cgroup, Guid id)
    {
        var (running, pid, runtime) = init.Live();
        return new ContainerLiveState(running, pid, runtime, running ? cgroup.ReadStats(id) : CgroupStats.Empty);
    }
}
