using System.Management.Automation;
using Virtuozzo.Engine.Concurrency;

namespace Virtuozzo.Commands.Infrastructure;

/// <summary>
/// Runs one engine operation per pipeline item concurrently, at most <c>-ThrottleLimit</c> at once (an engine
/// <see cref="WorkThrottle"/>): what Start- and Stop- of containers and VMs do over a pipeline. Each item is queued
/// as it arrives, after its ShouldProcess on the pipeline thread; its output, error, log lines and progress are
/// written on the pipeline thread when it finishes (so in the order items finish); <see cref="Drain"/>, from
/// EndProcessing, waits for the rest. One failure is that item's error and the others go on; Ctrl+C cancels all.
/// </summary>
internal sealed class ConcurrentItems(Cmdlet cmdlet, int limit, CancellationToken ct, Action<object, Exception> fail) : IDisposable
{
    /// <summary>How long a stopped pipeline waits for the cancelled operations' cleanup before giving the prompt back.</summary>
    private static readonly TimeSpan CleanupWait = TimeSpan.FromSeconds(30);

    private readonly WorkThrottle throttle = new(limit);
    private readonly CmdletSink sink = new();
    private readonly List<Task> running = [];
    private readonly object gate = new();
    private int pending;
    private bool closed;

    /// <summary>Starts <paramref name="operation"/> for <paramref name="target"/>; <paramref name="done"/> gets its result on the pipeline thread.</summary>
    public void Add<T>(object target, Func<CancellationToken, Task<T>> operation, Action<T> done)
    {
        lock (gate) pending++;
        var previous = CmdletSink.Current;
        CmdletSink.Current = sink; // flows into the operation: its log lines and progress come back through this sink
        try
        {
            var task = Task.Run(() => throttle.RunAsync(operation, ct));
            lock (gate) running.Add(task);
            _ = task.ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully) sink.Post(_ => done(t.Result));
                else
                {
                    var error = t.Exception?.InnerException ?? new OperationCanceledException(ct);
                    sink.Post(_ => fail(target, error));
                }
                lock (gate) { if (--pending == 0 && closed) sink.Complete(); }
            }, TaskScheduler.Default);
        }
        finally { CmdletSink.Current = previous; }
        sink.PumpAvailable(cmdlet);
    }

    /// <summary>Waits for every queued operation, writing what each produced as it finishes.</summary>
    public void Drain()
    {
        lock (gate) { closed = true; if (pending == 0) sink.Complete(); }
        try { sink.Pump(cmdlet); }
        catch (PipelineStoppedException)
        {
            // Ctrl+C surfaced while writing: the operations are cancelled by now; let their cleanup finish (bounded).
            Task[] all;
            lock (gate) all = [.. running];
            try { Task.WaitAll(all, CleanupWait); } catch (AggregateException) { }
            throw;
        }
    }

    public void Dispose() => sink.Dispose();
}
