namespace Virtuozzo.Engine.Service;

/// <summary>One decision of the host service: what it did or noticed, to which VE, and why.</summary>
public sealed record HostServiceEvent
{
    public DateTimeOffset Time { get; init; }
    /// <summary>A stable word: VeStarted, VeStopped, VeDied, BalloonTarget, BalloonDeflate, HotplugDimm, Error...</summary>
    public string Kind { get; init; } = "";
    public string Target { get; init; } = "";
    public string Message { get; init; } = "";

    public override string ToString() => $"{Time:HH:mm:ss} {Kind} {Target}: {Message}";
}
