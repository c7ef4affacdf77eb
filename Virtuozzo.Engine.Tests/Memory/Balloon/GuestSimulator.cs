using Virtuozzo.Engine.Memory.Balloon;

namespace Virtuozzo.Engine.Tests.Memory.Balloon;

/// <summary>
/// Plays a <see cref="GuestTrace"/> against a <see cref="BalloonPolicy"/>: the guest moves its balloon toward each
/// target at <see cref="InflateBytesPerSecond"/> (a TCG guest frees about 300-500 MiB/s), deflate-on-oom lets the guest
/// take memory back when its use would exceed what it has, and <see cref="Stuck"/> makes it ignore targets (the
/// PSBM-48383 case). Records every sample and command.
/// </summary>
internal sealed class GuestSimulator
{
    private readonly long memorySize, guarantee;
    private readonly BalloonPolicy policy;
    private long target;

    public GuestSimulator(long size, long guarantee, BalloonPolicy policy)
    {
        memorySize = size;
        this.guarantee = guarantee;
        this.policy = policy;
        Actual = target = size;
    }

    public long Actual { get; private set; }
    public long InflateBytesPerSecond { get; init; } = 400L << 20;
    public Func<double, bool> Stuck { get; init; } = _ => false;
    public Func<double, bool> Paused { get; init; } = _ => false;
    public bool OptedOut { get; init; }
    public HostMemoryState Host { get; init; } = new() { Total = 24L << 30, Available = 20L << 30, PressureSomeAvg10 = 0 };
    public long? StartActual { init => Actual = target = value ?? memorySize; }

    public List<(double T, long Actual, long Used, BalloonDecision Decision)> Samples { get; } = [];
    public List<(double T, long Target, bool Urgent, BalloonReason Reason)> Commands { get; } = [];
    public int OomDeflates { get; private set; }

    private static readonly DateTimeOffset Epoch = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    public void Run(GuestTrace trace)
    {
        double last = trace.Rows[0].Seconds;
        foreach (var row in trace.Rows)
        {
            Advance(row.Seconds - last, row.Used);
            last = row.Seconds;
            var now = Epoch.AddSeconds(row.Seconds);
            var sample = new BalloonSample
            {
                Time = now, MemorySize = memorySize, Guarantee = guarantee, Actual = Actual,
                // deflate-on-oom: the guest keeps ballooned pages in its total, as used memory.
                Guest = new GuestMemoryStats { Total = memorySize, Available = Math.Max(0, Actual - row.Used), Free = Math.Max(0, Actual - row.Used - row.Cache), DiskCaches = row.Cache, MajorFaults = row.MajorFaults, UpdatedAt = now },
                Host = Host, Paused = Paused(row.Seconds), OptedOut = OptedOut,
            };
            var d = policy.Decide(sample);
            Samples.Add((row.Seconds, Actual, row.Used, d));
            if (d.Target is { } t && t != Actual)
            {
                Commands.Add((row.Seconds, t, d.Urgent, d.Reason));
                policy.Sent(t, now, d.Urgent, d.Resend);
                if (!Stuck(row.Seconds)) target = t;
            }
        }
    }

    private void Advance(double seconds, long used)
    {
        var step = (long)(InflateBytesPerSecond * seconds);
        Actual = target > Actual ? Math.Min(target, Actual + step * 4) : Math.Max(target, Actual - step);
        // deflate-on-oom: a guest that would run out takes pages back from the balloon itself.
        if (used + (16L << 20) > Actual)
        {
            Actual = Math.Min(memorySize, used + (64L << 20));
            target = Math.Max(target, Actual);
            OomDeflates++;
        }
    }
}
