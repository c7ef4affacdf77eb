using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Host;

/// <summary>
/// The one rule for a VE's CPU count, the same for containers and VMs: 1 to the host's CPU count. More vCPUs than
/// host CPUs only adds contention (and a container cannot be given CPUs the host lacks).
/// </summary>
public static class CpuCountRule
{
    public const string InvalidErrorId = "VzInvalidCpuCount";

    /// <summary>Throws VzInvalidCpuCount when <paramref name="count"/> is outside 1..<paramref name="hostCpuCount"/>.</summary>
    public static int Validate(int count, int hostCpuCount, object? target) =>
        count < 1 || count > hostCpuCount
            ? throw new VzInvalidArgumentException(InvalidErrorId, $"{count} CPUs is outside 1-{hostCpuCount} (the host's CPUs).", target, "CpuCount")
            { RecommendedAction = $"Give 1-{hostCpuCount}." }
            : count;
}
