namespace Virtuozzo.Engine.Service;

/// <summary>The host service's timings. Every wait it does is bounded by one of these.</summary>
public sealed record HostSupervisorOptions
{
    /// <summary>The watch loop: a VE's death is noticed within this (plus the time of one pass).</summary>
    public TimeSpan LoopInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// Balloon stats are read and the policy asked this often per VM. The guest's stats refresh every second at an
    /// unknown phase, so at 1 s a burst is seen 0-2 s after it starts (measured: deflate p95 inside the 3 s goal).
    /// Sampling ballooned VMs every 0.5 s saw bursts 0.5 s sooner at the cost of half the service's CPU.
    /// </summary>
    public TimeSpan BalloonInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// When a VM sampled at <paramref name="now"/> is due again. Half a loop pass early counts as due: passes start
    /// a little earlier or later each time, and a VM found a millisecond short of its time would otherwise wait a whole
    /// extra pass (with a 1 s interval, a 2 s gap in the middle of a burst).
    /// </summary>
    public DateTimeOffset NextBalloonSampleAt(DateTimeOffset now) => now + BalloonInterval - LoopInterval / 2;
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
