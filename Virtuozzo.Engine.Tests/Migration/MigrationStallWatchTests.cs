using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Migration;
using Xunit;

namespace Virtuozzo.Engine.Tests.Migration;

public class MigrationStallWatchTests
{
    [Fact]
    public void Progress_or_a_new_phase_restarts_the_clock()
    {
        var clock = new ManualClock();
        var watch = new MigrationStallWatch(TimeSpan.FromMilliseconds(150), "vm1", clock);
        for (var i = 0; i < 6; i++)
        {
            watch.Observe("disk copy", i);
            clock.Advance(TimeSpan.FromMilliseconds(100));
        }
        // 600 ms in all, never 150 ms without progress.
        watch.Observe("memory copy", 5);
        clock.Advance(TimeSpan.FromMilliseconds(150));
        watch.Observe("memory copy", 5);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Throws<VzTimeoutException>(() => watch.Observe("memory copy", 5));
    }

    [Fact]
    public void A_counter_standing_still_past_the_timeout_is_a_typed_stall()
    {
        var clock = new ManualClock();
        var watch = new MigrationStallWatch(TimeSpan.FromMilliseconds(100), "vm1", clock);
        watch.Observe("memory copy", 42);
        clock.Advance(TimeSpan.FromMilliseconds(150));
        var ex = Assert.Throws<VzTimeoutException>(() => watch.Observe("memory copy", 42));
        Assert.Equal("VzMigrationStalled", ex.ErrorId);
        Assert.Equal("vm1", ex.Target);
        Assert.Equal(TimeSpan.FromMilliseconds(100), ex.Timeout);
        Assert.Contains("memory copy", ex.Message);
        Assert.NotNull(ex.RecommendedAction);
    }

    [Fact]
    public void The_default_aborts_on_a_five_second_cut()
    {
        Assert.True(MigrationStallWatch.DefaultTimeout < TimeSpan.FromSeconds(5));
        Assert.True(MigrationStallWatch.DefaultTimeout >= TimeSpan.FromSeconds(2), "short pauses of a loaded host must not abort a move");
    }
}
