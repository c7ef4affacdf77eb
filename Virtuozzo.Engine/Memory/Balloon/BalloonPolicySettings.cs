using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Memory.Balloon;

/// <summary>
/// The autoballoon policy's knobs (Set-VzHost). Defaults follow the reference designs: a 20 % buffer over the working
/// set (Hyper-V Dynamic Memory's default), one command per VM per 30 s in steady state (vcmmd's deadband lesson),
/// urgent deflate when the guest has less than 10 % of its memory available (or, before that, when its use climbs
/// fast enough to get there within <see cref="BalloonPolicy.BurstWatchSeconds"/>).
/// </summary>
public sealed record BalloonPolicySettings
{
    public const int MinBufferPercent = 5, MaxBufferPercent = 200;
    public const int LowestIntervalSeconds = 5, HighestIntervalSeconds = 600;
    public const int MinLowAvailablePercent = 2, MaxLowAvailablePercent = 50;
    public const int MinWindowSeconds = 2, MaxWindowSeconds = 600;

    /// <summary>Whether the host service balloons VMs at all (per VM, Set-VzVm -AutoBalloon opts one out).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Memory left to a VM over its working set, in percent of the working set.</summary>
    public int BufferPercent { get; init; } = 20;

    /// <summary>At most one balloon command per VM in this many seconds, except an urgent deflate.</summary>
    public int MinIntervalSeconds { get; init; } = 30;

    /// <summary>A guest whose available memory falls below this share of its memory is deflated at once.</summary>
    public int LowAvailablePercent { get; init; } = 10;

    /// <summary>The working set is the largest use seen over this window, so a VM is idle before it gives memory back.</summary>
    public int WorkingSetWindowSeconds { get; init; } = 10;

    /// <summary>Refuses values out of range with an error naming the limit; nothing is changed by the caller then.</summary>
    public void Validate()
    {
        Check(BufferPercent, MinBufferPercent, MaxBufferPercent, nameof(BufferPercent), "BalloonBufferPercent");
        Check(MinIntervalSeconds, LowestIntervalSeconds, HighestIntervalSeconds, nameof(MinIntervalSeconds), "BalloonIntervalSeconds");
        Check(LowAvailablePercent, MinLowAvailablePercent, MaxLowAvailablePercent, nameof(LowAvailablePercent), "BalloonLowAvailablePercent");
        Check(WorkingSetWindowSeconds, MinWindowSeconds, MaxWindowSeconds, nameof(WorkingSetWindowSeconds), "BalloonWindowSeconds");
    }

    private static void Check(int value, int min, int max, string name, string parameter)
    {
        if (value < min || value > max)
            throw new VzInvalidArgumentException("VzInvalidBalloonSetting", $"{name} must be {min}-{max}; {value} was given.", value, parameter)
            { RecommendedAction = $"Give Set-VzHost -{parameter} a value from {min} to {max}." };
    }
}
