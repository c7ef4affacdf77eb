namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>query-migrate's counters: status, RAM totals, expected downtime while active and the downtime once done.</summary>
public sealed record MigrationProgress
{
    public string? Status { get; init; }
    public string? ErrorDescription { get; init; }
    public long RamTotal { get; init; }
    public long RamTransferred { get; init; }
    public long RamRemaining { get; init; }
    public long DirtyPagesRate { get; init; }
    public long? ExpectedDowntimeMs { get; init; }
    public long? DowntimeMs { get; init; }
    public long? TotalTimeMs { get; init; }
    public long? CpuThrottlePercent { get; init; }
    public IReadOnlyList<string> BlockedReasons { get; init; } = [];
}
