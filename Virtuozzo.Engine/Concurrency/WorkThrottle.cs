namespace Virtuozzo.Engine.Concurrency;

/// <summary>
/// Bounds how many VE operations of one command run at once (a cmdlet's <c>-ThrottleLimit</c>).
/// <para>
/// A slot stands for work that costs the host something: runtime and QEMU launches, mounts, cgroup writes. A wait
/// that costs nothing, an init shutting down by its own clock (busybox init sleeps two seconds by design) or a
/// guest powering off, gives its slot to the next operation and takes one back to finish (<see cref="IdleAsync"/>).
/// So 100 busybox containers stop in about two seconds plus their work, not 100 / limit times two seconds, while
/// no more than the limit ever launch or clean up at once.
/// </para>
/// </summary>
public sealed class WorkThrottle
{
    private static readonly AsyncLocal<WorkThrottle?> current = new();
    private readonly SemaphoreSlim slots;

    public WorkThrottle(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Limit = limit;
        slots = new SemaphoreSlim(limit, limit);
    }

    /// <summary>The default limit: four per CPU, since most of an operation is waiting on the kernel or a child process.</summary>
    public static int DefaultLimit => Environment.ProcessorCount * 4;

    public int Limit { get; }

    /// <summary>Runs <paramref name="work"/> in a slot; waits inside it marked with <see cref="IdleAsync"/> give the slot up meanwhile.</summary>
    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> work, CancellationToken ct)
    {
        await slots.WaitAsync(ct);
        // Set inside this async method, so it flows into work's awaits and is gone again for the caller.
        current.Value = this;
        try { return await work(ct); }
        finally { slots.Release(); }
    }

    /// <summary>
    /// Awaits <paramref name="wait"/> outside the slot of the throttled operation this runs in (if any): for waits
    /// that cost the host nothing. Without a throttle it simply awaits.
    /// </summary>
    public static async Task<T> IdleAsync<T>(Func<Task<T>> wait)
    {
        var throttle = current.Value;
        if (throttle is null) return await wait();
        throttle.slots.Release();
        try { return await wait(); }
        finally { await throttle.slots.WaitAsync(CancellationToken.None); } // the operation ends in a slot, whatever happened
    }
}
