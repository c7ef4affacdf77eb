using Virtuozzo.Engine.Concurrency;

namespace Virtuozzo.Engine.Tests.Concurrency;

public sealed class WorkThrottleTests
{
    [Fact]
    public async Task RunsNoMoreThanTheLimitAtOnce()
    {
        var throttle = new WorkThrottle(3);
        int now = 0, most = 0;
        var tasks = Enumerable.Range(0, 20).Select(_ => throttle.RunAsync(async ct =>
        {
            var n = Interlocked.Increment(ref now);
            InterlockedMax(ref most, n);
            await Task.Delay(5, ct);
            Interlocked.Decrement(ref now);
            return true;
        }, CancellationToken.None)).ToArray();
        await Task.WhenAll(tasks);
        Assert.Equal(3, most);
    }

    [Fact]
    public async Task AnIdleWaitGivesItsSlotToOtherWork()
    {
        // One slot: the first operation waits idle until the second has run; without giving its slot up, this deadlocks.
        var throttle = new WorkThrottle(1);
        var secondRan = new TaskCompletionSource();
        var first = throttle.RunAsync(async _ => await WorkThrottle.IdleAsync(async () => { await secondRan.Task.WaitAsync(TimeSpan.FromSeconds(10)); return 1; }), CancellationToken.None);
        var second = throttle.RunAsync(_ => { secondRan.SetResult(); return Task.FromResult(2); }, CancellationToken.None);
        Assert.Equal(2, await second.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, await first.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task IdleOutsideAThrottleJustWaits() =>
        Assert.Equal(7, await WorkThrottle.IdleAsync(() => Task.FromResult(7)));

    [Fact]
    public void ALimitBelowOneIsRefused() => Assert.Throws<ArgumentOutOfRangeException>(() => new WorkThrottle(0));

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
