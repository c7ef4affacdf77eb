namespace Virtuozzo.Engine.Service;

/// <summary>What Get-VzHostService shows: whether the service of this data root runs, and what it did last.</summary>
public sealed record HostServiceInfo
{
    public bool Running { get; init; }
    public int? ProcessId { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public TimeSpan? Uptime { get; init; }
    public DateTimeOffset? LastLoopAt { get; init; }
    public long LoopCount { get; init; }
    public string Phase { get; init; } = "";
    public string DataRoot { get; init; } = "";
    public string StatusPath { get; init; } = "";
    public string LogPath { get; init; } = "";
    public IReadOnlyList<HostServiceEvent> LastDecisions { get; init; } = [];
}
