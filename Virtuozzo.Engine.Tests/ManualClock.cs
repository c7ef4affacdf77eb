namespace Virtuozzo.Engine.Tests;

/// <summary>
/// A clock that moves only when a test says so: timeouts and intervals are tested without sleeping, so a loaded
/// CI host cannot stretch a 50 ms sleep past a 150 ms limit and fail a correct test.
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    private long ticks;
    private readonly DateTimeOffset start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);

    public override long GetTimestamp() => Interlocked.Read(ref ticks);
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override DateTimeOffset GetUtcNow() => start.AddTicks(Interlocked.Read(ref ticks));
}
