namespace Virtuozzo.Engine.Memory.Balloon;

/// <summary>
/// One observation of a VM for the policy, in bytes: what QEMU says (balloon actual, from query-balloon), what the
/// guest says (virtio-balloon guest-stats, null when the guest's driver reports none), and the host's state.
/// </summary>
public sealed record BalloonSample
{
    public DateTimeOffset Time { get; init; }
    /// <summary>The VM's RAM now (boot RAM plus hot-added DIMMs): the balloon's ceiling.</summary>
    public long MemorySize { get; init; }
    /// <summary>The guarantee: the balloon never leaves the guest less.</summary>
    public long Guarantee { get; init; }
    /// <summary>Memory the guest has now (RAM minus the inflated balloon).</summary>
    public long Actual { get; init; }
    public GuestMemoryStats? Guest { get; init; }
    public HostMemoryState Host { get; init; } = new();
    /// <summary>A migration or snapshot runs: the balloon must not move.</summary>
    public bool Paused { get; init; }
    /// <summary>Set-VzVm -AutoBalloon $false: the VM keeps all its memory.</summary>
    public bool OptedOut { get; init; }
}

/// <summary>The guest's own view, from the virtio-balloon stats queue (bytes; counters since boot).</summary>
public sealed record GuestMemoryStats
{
    /// <summary>stat-total-memory: what the guest kernel manages (shrinks as the balloon inflates).</summary>
    public long Total { get; init; }
    /// <summary>stat-available-memory: MemAvailable inside the guest.</summary>
    public long Available { get; init; }
    public long Free { get; init; }
    public long DiskCaches { get; init; }
    public long MajorFaults { get; init; }
    public long SwapIn { get; init; }
    /// <summary>When the guest last refreshed its stats; stale stats (driver gone) are not acted on.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>
    /// Memory the guest's own work uses: total less available, less the balloon when the guest counts it in its
    /// total. With deflate-on-oom Linux keeps ballooned pages in MemTotal (as used memory, so it can take them back);
    /// without it, MemTotal shrinks by the balloon and the correction is zero.
    /// </summary>
    public long UsedExcludingBalloon(long actual) => Math.Max(0, Total - Available - Math.Max(0, Total - actual));
}

/// <summary>The host's memory: MemTotal, MemAvailable, and /proc/pressure/memory "some avg10" (percent, null without PSI).</summary>
public sealed record HostMemoryState
{
    public long Total { get; init; }
    public long Available { get; init; }
    public double? PressureSomeAvg10 { get; init; }
}
