namespace Virtuozzo.Engine.Ksm;

/// <summary>A change to KSM's settings; null fields are left as they are.</summary>
public sealed record KsmSettings
{
    public KsmRunMode? Run { get; init; }
    public int? PagesToScan { get; init; }
    public int? SleepMilliseconds { get; init; }
    public bool? MergeAcrossNodes { get; init; }
}
