using System.Collections.Concurrent;
using System.Management.Automation;

namespace Virtuozzo.Commands.Infrastructure;

/// <summary>
/// Carries log lines and progress from engine threads to the pipeline thread, the only thread allowed to call
/// WriteVerbose/WriteProgress. The running operation finds its sink through an AsyncLocal, so concurrent
/// cmdlets (jobs, runspaces) each get their own messages.
/// </summary>
internal sealed class CmdletSink : IDisposable
{
    private static readonly AsyncLocal<CmdletSink?> current = new();
    private readonly BlockingCollection<Action<Cmdlet>> queue = new(boundedCapacity: 10_000);

    public static CmdletSink? Current { get => current.Value; set => current.Value = value; }

    /// <summary>Queues an action for the pipeline thread; dropped when the operation has already finished.</summary>
    public void Post(Action<Cmdlet> action)
    {
        try { queue.TryAdd(action); }
        catch (InvalidOperationException) { } // completed or disposed: the cmdlet has moved on
    }

    public void Complete() => queue.CompleteAdding();

    /// <summary>Runs queued actions on the calling (pipeline) thread until <see cref="Complete"/>.</summary>
    public void Pump(Cmdlet cmdlet)
    {
        foreach (var action in queue.GetConsumingEnumerable()) action(cmdlet);
    }

    /// <summary>Runs the actions queued so far on the calling (pipeline) thread, without waiting for more.</summary>
    public void PumpAvailable(Cmdlet cmdlet)
    {
        while (queue.TryTake(out var action)) action(cmdlet);
    }

    public void Dispose() => queue.Dispose();
}
