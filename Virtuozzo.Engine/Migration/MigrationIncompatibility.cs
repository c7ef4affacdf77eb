namespace Virtuozzo.Engine.Migration;

/// <summary>Which host an incompatibility was found on.</summary>
public enum MigrationSide { Source, Destination, Connection }

/// <summary>
/// One reason a VE cannot move (Hyper-V's VMCompatibilityReport.Incompatibilities): a stable message id scripts
/// match on, a message that says what to do, and the object at fault (a disk, a bridge, a name, the host key).
/// </summary>
public sealed record MigrationIncompatibility(string MessageId, string Message, string Source, MigrationSide Side);
