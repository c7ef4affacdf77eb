using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Migration;

/// <summary>
/// Notices a live move that no longer makes progress: the disk mirrors' offsets and QEMU's RAM bytes sent stand
/// still for longer than the stall timeout. Neither QEMU nor ssh gives up on a cut network by itself for many seconds
/// (TCP retransmits; ssh's keep-alive needs three missed answers), and meanwhile the source's QEMU sits in a blocked
/// write. The move is then cancelled and rolled back: the VM keeps running on the source, which is where an
/// administrator expects it after a network fault, and a new Move-VzVm starts over on a healthy link.
/// </summary>
public sealed class MigrationStallWatch(TimeSpan timeout, string name, TimeProvider? clock = null)
{
    /// <summary>
    /// The default: a network cut of 5 s aborts (TCP's retransmission back-off makes the pause seen by QEMU longer
    /// than the cut itself), while a loaded host's pauses between two progress samples stay well below it.
    /// </summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(4);

    private readonly TimeProvider time = clock ?? TimeProvider.System;
    private long progressAt = (clock ?? TimeProvider.System).GetTimestamp();
    private long last = -1;
    private string phase = "";

    public TimeSpan Timeout => timeout;

    /// <summary>
    /// Records the progress counter of a phase (bytes mirrored, RAM bytes sent); throws
    /// <see cref="VzTimeoutException"/> with id VzMigrationStalled when it has not moved for longer than the timeout.
    /// A new phase starts the clock again.
    /// </summary>
    public void Observe(string currentPhase, long counter)
    {
        if (currentPhase != phase || counter != last)
        {
            phase = currentPhase;
            last = counter;
            progressAt = time.GetTimestamp();
            return;
        }
        var still = time.GetElapsedTime(progressAt);
        if (still > timeout)
            throw new VzTimeoutException("VzMigrationStalled",
                $"Moving '{name}' made no progress for {still.TotalSeconds:0.0} s during the {phase} (the network to the destination or the destination itself stopped answering); the move was cancelled.",
                name, timeout)
            { RecommendedAction = "The VM keeps running on this host. Check the network to the destination and run Move-VzVm again; use -StallTimeout to allow longer pauses on a slow or lossy link." };
    }
}
