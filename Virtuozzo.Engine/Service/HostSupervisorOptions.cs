namespace Virtuozzo.Engine.Service;

/// <summary>The host service's timings. Every wait it does is bounded by one of these.</summary>
public sealed record HostSupervisorOptions
{
    /// <summary>The watch loop: a VE's death is noticed within this (plus the time of one pass).</summary>
    public TimeSpan LoopInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Balloon stats are read and the policy asked this often per VM.</summary>
    public TimeSpan BalloonInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// A ballooned VM (one that holds less than its RAM) is sampled this often; below <see cref="LoopInterval"/>, by
    /// memory-only passes between the loop's passes. The guest's stats refresh every second at an unknown phase, so a
    /// burst is seen 0-2 s after it starts at 1 s (measured: deflate p95 well inside the 3 s goal). Sampling every
    /// 0.5 s saw it 0.5 s sooner at the cost of half the service's CPU.
    /// </summary>
    public TimeSpan BalloonedInterval { get; init; } = TimeSpan.FromMilliseconds(1000);
    /// <summary>
    /// When a VM sampled at <paramref name="now"/> is due again. Half a memory pass early counts as due: passes start
    /// a little earlier or later each time, and a VM found a millisecond short of its time would otherwise wait a whole
    /// extra pass (with a 1 s interval, a 2 s gap in the middle of a burst).
    /// </summary>
    public DateTimeOffset NextBalloonSampleAt(DateTimeOffset now, bool ballooned = false) =>
        now + (ballooned ? BalloonedInterval : BalloonInterval) - MemoryPassInterval / 2;
    /// <summary>The memory manager's pass period (a divisor of <see cref="LoopInterval"/>): the loop's own passes, and memory-only passes between them.</summary>
    public TimeSpan MemoryPassInterval => BalloonedInterval < LoopInterval ? BalloonedInterval : LoopInterval;
    /// <summary>Guest tools facts (agent state, OS, addresses) are refreshed this often per VM.</summary>
    public TimeSpan GuestRefreshInterval { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>The balloon driver refreshes its stats this often (QOM guest-stats-polling-interval).</summary>
    public int GuestStatsPollSeconds { get; init; } = 1;
    /// <summary>A monitor that does not answer within this counts as hung for this pass; the VM is tried again later.</summary>
    public TimeSpan MonitorTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan AgentTimeout { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>How long AutoStop waits for one VE to shut down before it powers it off.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(90);
}
