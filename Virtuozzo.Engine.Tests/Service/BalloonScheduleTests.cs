using Virtuozzo.Engine.Service;

namespace Virtuozzo.Engine.Tests.Service;

/// <summary>The memory manager samples a VM on every pass it is due, whatever the jitter of the passes.</summary>
public sealed class BalloonScheduleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void With_the_defaults_every_pass_samples_even_one_that_starts_a_little_early()
    {
        var options = new HostSupervisorOptions();
        Assert.Equal(TimeSpan.FromSeconds(1), options.BalloonInterval);
        Assert.Equal(1, options.GuestStatsPollSeconds);
        var next = options.NextBalloonSampleAt(T0);
        // The next pass: on time, 30 ms early (a shorter watch step this time), or late.
        Assert.True(T0.AddSeconds(1) >= next);
        Assert.True(T0.AddMilliseconds(970) >= next);
        Assert.True(T0.AddMilliseconds(1400) >= next);
        // The same pass is not due twice.
        Assert.True(T0.AddMilliseconds(100) < next);
    }

    [Fact]
    public void A_longer_interval_skips_the_passes_in_between()
    {
        var options = new HostSupervisorOptions { BalloonInterval = TimeSpan.FromSeconds(5) };
        var next = options.NextBalloonSampleAt(T0);
        Assert.True(T0.AddSeconds(4) < next);
        Assert.True(T0.AddMilliseconds(4970) >= next);
    }
}
