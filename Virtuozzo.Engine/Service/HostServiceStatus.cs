namespace Virtuozzo.Engine.Service;

/// <summary>The status file the service writes after every loop (JSON, atomically replaced).</summary>
public sealed record HostServiceStatus
{
    public int ProcessId { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? LastLoopAt { get; init; }
    public long LoopCount { get; init; }
    /// <summary>Starting (OnBoot in progress), Running, Stopping (AutoStop in progress).</summary>
    public string Phase { get; init; } = "";
    public string DataRoot { get; init; } = "";
    public IReadOnlyList<HostServiceEvent> LastDecisions { get; init; } = [];
}
