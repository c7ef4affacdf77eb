using System.Management.Automation;
using System.Management.Automation.Host;
using Virtuozzo.Engine.Progress;

namespace Virtuozzo.Commands.Infrastructure;

/// <summary>
/// The job a cmdlet returns for -AsJob: it runs the cmdlet's engine operation on a worker thread, and its output is
/// the same objects the cmdlet would have written (Receive-Job returns them, live, not serialized). Engine log lines
/// become the job's Verbose/Debug/Warning records, progress its Progress records, failures ErrorRecords with the
/// same stable ids (through <see cref="ErrorMapper"/>). Stop-Job cancels the operation's token.
/// <para>
/// Decisions stay on the pipeline thread: bind, validate and ask ShouldProcess first (a job cannot prompt), then hand
/// only the approved work to <see cref="Start"/>:
/// <code>
/// if (!ShouldProcess(name, "Copy")) return;
/// if (AsJob) { WriteObject(VzJob.Start(this, $"Copy-VzVm {name}", async (job, ct) => job.WriteObject(await engine.Vms.CopyAsync(..., job.EngineProgress, ct)))); return; }
/// </code>
/// </para>
/// </summary>
public sealed class VzJob : Job
{
    private readonly CancellationTokenSource cancellation = new();
    private readonly JobCmdlet writer;
    private int progressId;

    private VzJob(string command, string name) : base(command, name)
    {
        PSJobTypeName = "VzJob";
        writer = new JobCmdlet(this);
    }

    /// <summary>Creates the job, registers it with the session's job repository (Get-Job sees it) and starts it.</summary>
    public static VzJob Start(PSCmdlet owner, string command, Func<VzJob, CancellationToken, Task> operation)
    {
        var job = new VzJob(command, $"Vz{Interlocked.Increment(ref jobNumber)}");
        owner.JobRepository.Add(job);
        job.SetJobState(JobState.Running);
        _ = Task.Run(() => job.RunAsync(operation));
        return job;
    }

    private static int jobNumber;

    /// <summary>Adds an object to the job's output, as WriteObject would have.</summary>
    public void WriteObject(object? value)
    {
        if (value is not null) Output.Add(PSObject.AsPSObject(value));
    }

    /// <summary>Engine progress reports, turned into the job's Progress records.</summary>
    public IProgress<VzProgress> EngineProgress => new JobProgress(this);

    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Verbose.Count > 0 || Warning.Count > 0 || Debug.Count > 0 || Progress.Count > 0;

    public override string Location => "localhost";

    public override string StatusMessage => JobStateInfo.State.ToString();

    public override void StopJob()
    {
        if (JobStateInfo.State is JobState.Running or JobState.NotStarted) SetJobState(JobState.Stopping);
        cancellation.Cancel();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) cancellation.Dispose();
        base.Dispose(disposing);
    }

    private async Task RunAsync(Func<VzJob, CancellationToken, Task> operation)
    {
        // The same sink the cmdlets use: engine log lines posted from any thread of this operation end up here.
        using var sink = new CmdletSink();
        CmdletSink.Current = sink;
        var pump = Task.Factory.StartNew(() => sink.Pump(writer), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        JobState final;
        try
        {
            await operation(this, cancellation.Token).ConfigureAwait(false);
            final = JobState.Completed;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            final = JobState.Stopped;
        }
        catch (Exception ex)
        {
            Error.Add(ErrorMapper.ToErrorRecord(ex, Command));
            final = JobState.Failed;
        }
        finally
        {
            CmdletSink.Current = null;
            sink.Complete();
        }
        await pump.ConfigureAwait(false);
        SetJobState(final);
    }

    private sealed class JobProgress(VzJob job) : IProgress<VzProgress>
    {
        private readonly int activityId = Interlocked.Increment(ref job.progressId);

        public void Report(VzProgress value) => job.AddProgress(new ProgressRecord(activityId, value.Activity, value.Status.Length > 0 ? value.Status : value.Activity)
        {
            PercentComplete = value.Percent is { } p ? Math.Clamp(p, 0, 100) : -1,
            RecordType = value.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        });
    }

    private void AddProgress(ProgressRecord record) => Progress.Add(record);

    /// <summary>
    /// A cmdlet object whose Write* calls land in the job's streams, so the logger bridge (which writes to "the
    /// running cmdlet") serves jobs unchanged.
    /// </summary>
    private sealed class JobCmdlet : Cmdlet
    {
        public JobCmdlet(VzJob job) => CommandRuntime = new JobCommandRuntime(job);
    }

    private sealed class JobCommandRuntime(VzJob job) : ICommandRuntime
    {
        public PSTransactionContext CurrentPSTransaction => throw new NotSupportedException();
        public PSHost Host => throw new NotSupportedException("A Virtuozzo job has no host.");
        public bool ShouldContinue(string query, string caption) => true;
        public bool ShouldContinue(string query, string caption, ref bool yesToAll, ref bool noToAll) => true;
        public bool ShouldProcess(string target) => true;
        public bool ShouldProcess(string target, string action) => true;
        public bool ShouldProcess(string verboseDescription, string verboseWarning, string caption) => true;
        public bool ShouldProcess(string verboseDescription, string verboseWarning, string caption, out ShouldProcessReason shouldProcessReason)
        {
            shouldProcessReason = ShouldProcessReason.None;
            return true;
        }
        public void ThrowTerminatingError(ErrorRecord errorRecord) => throw new RuntimeException(errorRecord.ToString(), errorRecord.Exception);
        public bool TransactionAvailable() => false;
        public void WriteCommandDetail(string text) { }
        public void WriteDebug(string text) => job.Debug.Add(new DebugRecord(text));
        public void WriteError(ErrorRecord errorRecord) => job.Error.Add(errorRecord);
        public void WriteObject(object sendToPipeline) => job.WriteObject(sendToPipeline);
        public void WriteObject(object sendToPipeline, bool enumerateCollection)
        {
            if (enumerateCollection && LanguagePrimitives.GetEnumerable(sendToPipeline) is { } items) { foreach (var o in items) job.WriteObject(o); }
            else job.WriteObject(sendToPipeline);
        }
        public void WriteProgress(ProgressRecord progressRecord) => job.AddProgress(progressRecord);
        public void WriteProgress(long sourceId, ProgressRecord progressRecord) => job.AddProgress(progressRecord);
        public void WriteVerbose(string text) => job.Verbose.Add(new VerboseRecord(text));
        public void WriteWarning(string text) => job.Warning.Add(new WarningRecord(text));
    }
}
