namespace Virtuozzo.Engine.Memory.Balloon;

/// <summary>What the policy wants for one VM now: a new balloon target (null: leave it), why, and the estimate it used.</summary>
public sealed record BalloonDecision
{
    public long? Target { get; init; }
    /// <summary>An urgent deflate (guest short of memory, or below its guarantee): sent even inside the rate limit.</summary>
    public bool Urgent { get; init; }
    /// <summary>The last steady target sent again (the guest missed it): the caller reports it with <c>Sent(..., resend: true)</c>.</summary>
    public bool Resend { get; init; }
    public BalloonReason Reason { get; init; }
    /// <summary>A sentence for Get-VzMemoryPlan and the service's events.</summary>
    public string Detail { get; init; } = "";
    /// <summary>The working set the decision assumed (largest use over the window), null without guest stats.</summary>
    public long? WorkingSet { get; init; }
    /// <summary>Where the policy would put the balloon now (also when no command goes out).</summary>
    public long DesiredTarget { get; init; }
}

public enum BalloonReason
{
    /// <summary>Nothing to do: within the deadband.</summary>
    Steady,
    /// <summary>An idle VM gives memory back: target = working set + buffer.</summary>
    Reclaim,
    /// <summary>The working set grew: more memory, not urgent.</summary>
    Grow,
    /// <summary>The guest's available memory is low: deflate now.</summary>
    UrgentDeflate,
    /// <summary>The balloon was below the guarantee (a crash, a restart, a larger guarantee): restore it at once.</summary>
    BelowGuarantee,
    /// <summary>The guest did not reach the last target: send it again (vcmmd PSBM-48383).</summary>
    Resend,
    /// <summary>A command would be due but the rate limit holds it back.</summary>
    RateLimited,
    /// <summary>Migration or snapshot in progress.</summary>
    Paused,
    /// <summary>AutoBalloon is off for this VM (or host-wide): the balloon goes back to full size once.</summary>
    OptedOut,
    /// <summary>The guest reports no balloon stats (no driver): only the guarantee is enforced.</summary>
    NoGuestStats,
}
