using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Creates or updates containers and VMs from a YAML desired-state file written by Export-VzConfig or by hand.</para>
/// </summary>
[Cmdlet(VerbsData.Import, "VzConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VeConfigImportResult))]
[OutputType(typeof(Job))]
public sealed class ImportVzConfigCommand : ConfigFileCmdlet
{
    private const string Activity = "Importing VE settings";
    private readonly List<VeConfigImportResult> forJob = [];

    /// <summary>Apply the approved changes in a background job; the job's output is the result objects.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessRecord()
    {
        var include = EntryFilter();
        foreach (var file in ResolveFiles())
        {
            ForItem(file, () =>
            {
                var exchange = Engine.ConfigExchange;
                // Validation and confirmation happen here, on the pipeline thread, before any change (and before a job:
                // a job cannot prompt).
                var plan = Run(() => exchange.Plan(file, include));
                var approved = new List<VeConfigImportResult>();
                foreach (var item in plan)
                {
                    if (item.Action == VeConfigImportAction.Unchanged) { approved.Add(item); continue; }
                    var kind = item.Type == VeType.VirtualMachine ? "VM" : "container";
                    var what = item.Action == VeConfigImportAction.Create
                        ? $"Create {kind} from {System.IO.Path.GetFileName(file)} line {item.Line}"
                        : $"Update {kind}: {string.Join("; ", item.Changes)}";
                    if (ShouldProcess(item.Name, what)) approved.Add(item);
                }
                if (AsJob) { forJob.AddRange(approved); return; }
                var progress = Progress;
                Run(ct => ApplyAllAsync(exchange, approved, progress, ct));
            });
        }
    }

    protected override void EndProcessing()
    {
        try
        {
            if (!AsJob || forJob.Count == 0) return;
            var exchange = Engine.ConfigExchange;
            var items = forJob.ToList();
            WriteObject(VzJob.Start(this, $"Import-VzConfig {string.Join(", ", Path)}", (job, ct) => ApplyAllAsync(exchange, items, job.EngineProgress, ct)));
        }
        finally { base.EndProcessing(); }
    }

    /// <summary>
    /// Applies approved entries one by one. Results and per-entry errors go to whoever runs the operation (this
    /// cmdlet's pipeline, or a job's streams) through the operation's sink; one failed entry does not stop the rest.
    /// </summary>
    private static async Task<bool> ApplyAllAsync(VeConfigExchange exchange, IReadOnlyList<VeConfigImportResult> items, IProgress<VzProgress> progress, CancellationToken ct)
    {
        var sink = CmdletSink.Current;
        var changing = items.Count(i => i.Action != VeConfigImportAction.Unchanged);
        var done = 0;
        foreach (var item in items)
        {
            ct.ThrowIfCancellationRequested();
            if (item.Action == VeConfigImportAction.Unchanged) { var same = item with { Applied = true }; sink?.Post(c => c.WriteObject(same)); continue; }
            progress.Report(new VzProgress(Activity, $"{item.Action} {item.Name} ({done + 1} of {changing})", done * 100 / Math.Max(changing, 1)));
            try
            {
                var result = await exchange.ApplyAsync(item, ct).ConfigureAwait(false);
                sink?.Post(c => c.WriteObject(result));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                var record = ErrorMapper.ToErrorRecord(ex, item.Name);
                sink?.Post(c => c.WriteError(record));
            }
            done++;
        }
        if (changing > 0) progress.Report(new VzProgress(Activity, "Done", 100, Completed: true));
        return true;
    }
}
