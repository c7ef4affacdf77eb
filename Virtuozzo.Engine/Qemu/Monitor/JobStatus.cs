namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>One QEMU job as query-jobs reports it; <see cref="Error"/> is set when a concluded job failed.</summary>
public sealed record JobStatus(string Status, string? Error, long CurrentProgress, long TotalProgress);
