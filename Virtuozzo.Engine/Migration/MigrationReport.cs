using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Migration;

/// <summary>
/// What Test-VzMigration found: one entry per incompatibility, empty when the VE can move. Checking changes nothing
/// on either host.
/// </summary>
public sealed record MigrationReport
{
    public string Name { get; init; } = "";
    public Guid Id { get; init; }
    public VeType Type { get; init; }
    public string DestinationHost { get; init; } = "";
    public MigrationMode Mode { get; init; }
    public bool IsCompatible => Incompatibilities.Count == 0;
    public IReadOnlyList<MigrationIncompatibility> Incompatibilities { get; init; } = [];
    public string? SourceQemuVersion { get; init; }
    public string? DestinationQemuVersion { get; init; }
    public string? DestinationDataRoot { get; init; }
    public long DestinationFreeBytes { get; init; }
    /// <summary>How long the checks took (the target is at most a few seconds, network included).</summary>
    public TimeSpan Duration { get; init; }
}
