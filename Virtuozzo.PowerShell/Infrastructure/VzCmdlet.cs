using System.Management.Automation;
using Virtuozzo.Engine;
using Virtuozzo.Engine.Progress;

namespace Virtuozzo.Commands.Infrastructure;

/// <summary>
/// Base of every Virtuozzo cmdlet: the engine, cancellation from Ctrl+C, engine logging and progress routed to the
/// pipeline thread, and engine exceptions turned into ErrorRecords. A cmdlet binds parameters, asks ShouldProcess
/// and calls Run; everything else lives in the engine.
/// </summary>
public abstract class VzCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource cancellation = new();

    /// <summary>How long a stopped cmdlet waits for its cancelled operation's cleanup before giving the prompt back.</summary>
    private static readonly TimeSpan CleanupWait = TimeSpan.FromSeconds(30);
    private static int activityIds;
    private readonly int activityId = Interlocked.Increment(ref activityIds);

    /// <summary>The engine for the current data root, created on first use.</summary>
    protected VzEngine Engine => EngineHost.Get();

    /// <summary>Cancelled when the user presses Ctrl+C or the pipeline stops.</summary>
    protected CancellationToken CancellationToken => cancellation.Token;

    /// <summary>Hand this to engine calls that report progress; reports become Write-Progress on this cmdlet.</summary>
    protected IProgress<VzProgress> Progress => new SinkProgress(activityId);

    protected override void StopProcessing() => cancellation.Cancel();

    protected override void EndProcessing()
    {
        try { concurrent?.Drain(); }
        finally
        {
            concurrent?.Dispose();
            cancellation.Dispose();
        }
    }

    private ConcurrentItems? concurrent;

    /// <summary>
    /// Queues an operation for one pipeline item to run beside the others of this command, at most
    /// <paramref name="throttleLimit"/> at once (see <see cref="ConcurrentItems"/>); <paramref name="done"/> gets its
    /// result on the pipeline thread, a failure becomes that item's error. EndProcessing waits for them all.
    /// </summary>
    protected void RunConcurrently<T>(int throttleLimit, object target, Func<CancellationToken, Task<T>> operation, Action<T> done)
    {
        concurrent ??= new ConcurrentItems(this, throttleLimit, cancellation.Token,
            (item, error) => ForItem(item, () => System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error)));
        concurrent.Add(target, operation, done);
    }

    /// <summary>
    /// Runs an engine operation off the pipeline thread while this thread writes the operation's log lines and
    /// progress as they come. Exceptions come back as they were thrown (use <see cref="WriteVzError"/> or
    /// <see cref="ThrowVzError"/> to report them).
    /// </summary>
    protected T Run<T>(Func<CancellationToken, Task<T>> operation)
    {
        using var sink = new CmdletSink();
        var previous = CmdletSink.Current;
        CmdletSink.Current = sink; // flows into Task.Run below, and from there into every await in the engine
        Task<T> task;
        try { task = Task.Run(() => operation(cancellation.Token)); }
        finally { CmdletSink.Current = previous; }
        _ = task.ContinueWith(_ => sink.Complete(), TaskScheduler.Default);
        try { sink.Pump(this); }
        catch (PipelineStoppedException)
        {
            // Ctrl+C surfaced here first (a Write* call on a stopping pipeline throws): the operation is cancelled
            // by now, so wait for it to unwind, so its cleanup (a rollback, a killed child process) is done when the
            // prompt returns rather than racing the next command. Bounded: cleanup paths bound their own waits.
            cancellation.Cancel();
            try { task.Wait(CleanupWait); } catch (AggregateException) { }
            throw;
        }
        return task.GetAwaiter().GetResult();
    }

    protected void Run(Func<CancellationToken, Task> operation) =>
        Run<bool>(async ct => { await operation(ct); return true; });

    /// <summary>
    /// Runs a long engine operation here, or with -AsJob as a <see cref="VzJob"/> whose output is the same object.
    /// Call it after ShouldProcess: a job cannot prompt. <paramref name="write"/> false keeps the result out of the
    /// output (for cmdlets whose -PassThru is off).
    /// </summary>
    protected void RunOrStartJob<T>(bool asJob, string jobCommand, Func<IProgress<VzProgress>, CancellationToken, Task<T>> operation, bool write = true)
    {
        if (asJob)
        {
            WriteObject(VzJob.Start(this, jobCommand, async (job, ct) =>
            {
                var result = await operation(job.EngineProgress, ct);
                if (write) job.WriteObject(result);
            }));
            return;
        }
        var progress = Progress;
        var value = Run(ct => operation(progress, ct));
        if (write) WriteObject(value);
    }

    /// <summary>Runs a synchronous engine call with logging routed, for store reads and writes.</summary>
    protected T Run<T>(Func<T> operation) => Run(_ => Task.FromResult(operation()));

    /// <summary>
    /// ShouldProcess for cmdlets with -Force. Across the module -Force means one thing: do it without asking, and take
    /// the step that would otherwise refuse it (stop a running VE before removing it, rebuild an existing template).
    /// It never overrides -WhatIf.
    /// </summary>
    protected bool ShouldProcessUnlessForced(bool force, string target, string action) =>
        (force && !MyInvocation.BoundParameters.ContainsKey("WhatIf")) || ShouldProcess(target, action);

    /// <summary>Reports a failure of one item and goes on with the next.</summary>
    protected void WriteVzError(Exception exception, object? target) => WriteError(ErrorMapper.ToErrorRecord(exception, target));

    /// <summary>Stops the whole command with a mapped error.</summary>
    protected void ThrowVzError(Exception exception, object? target) => ThrowTerminatingError(ErrorMapper.ToErrorRecord(exception, target));

    /// <summary>
    /// Runs <paramref name="action"/> for one item, turning engine failures into a non-terminating error for that
    /// item. Ctrl+C still stops the whole pipeline.
    /// </summary>
    protected void ForItem(object? target, Action action)
    {
        try { action(); }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { throw new PipelineStoppedException(); }
        catch (PipelineStoppedException) { throw; }
        catch (Exception ex) when (ex is not PSInvalidOperationException) { WriteVzError(ex, target); }
    }

    private sealed class SinkProgress(int activityId) : IProgress<VzProgress>
    {
        public void Report(VzProgress value)
        {
            var record = new ProgressRecord(activityId, value.Activity, value.Status.Length > 0 ? value.Status : value.Activity)
            {
                PercentComplete = value.Percent is { } p ? Math.Clamp(p, 0, 100) : -1,
                RecordType = value.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
            };
            CmdletSink.Current?.Post(c => c.WriteProgress(record));
        }
    }
}
