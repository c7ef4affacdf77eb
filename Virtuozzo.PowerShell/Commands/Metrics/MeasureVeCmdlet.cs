using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Metrics;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// Base of Measure-VzVm and Measure-VzContainer: gathers the VEs from every pipeline input, then measures them
/// together in EndProcessing (one interval for all), writing each <see cref="VeUsage"/> as it comes.
/// </summary>
public abstract class MeasureVeCmdlet : VzCmdlet
{
    private readonly List<Guid> ids = [];

    /// <summary>Seconds between the two samples (and between objects with -Continuous). More than 0; default 1.</summary>
    [Parameter]
    [Alias("SampleInterval")]
    public double Interval { get; set; } = 1;

    /// <summary>Stream one object per VE per interval until Ctrl+C (or until every measured VE stopped).</summary>
    [Parameter]
    public SwitchParameter Continuous { get; set; }

    protected abstract VeType Type { get; }

    /// <summary>The VE records this invocation's input names (Name with wildcards, Id, or objects).</summary>
    protected abstract IEnumerable<VeRecord> Selected();

    /// <summary>True when the input was a wildcard or nothing: stopped VEs are skipped silently, not reported.</summary>
    protected abstract bool SelectedByPattern { get; }

    protected override void BeginProcessing()
    {
        try { VeMeter.CheckInterval(Interval); }
        catch (VzException ex) { ThrowVzError(ex, Interval); }
    }

    protected override void ProcessRecord()
    {
        foreach (var r in Selected().ToList())
        {
            if (r.Error is { } corrupt) { WriteVzError(corrupt, corrupt.Path); continue; }
            if (r.Config is null || r.State != VeRegistrationState.Ready) continue;
            if (!new VeSampler(Engine).Sample(r.Config).Running)
            {
                if (!SelectedByPattern) WriteVzError(NotRunning(r.Config.Name), r.Config.Name);
                continue;
            }
            if (!ids.Contains(r.Id)) ids.Add(r.Id);
        }
    }

    protected override void EndProcessing()
    {
        try
        {
            if (ids.Count == 0) return;
            var interval = VeMeter.CheckInterval(Interval);
            var meter = Engine.Meter;
            ForItem(null, () => Run(async ct =>
            {
                await foreach (var usage in meter.MeasureAsync(ids, interval, Continuous, ct))
                {
                    if (usage.State != "Running") CmdletSink.Current?.Post(c => c.WriteVerbose($"{usage.Name} stopped during the measure: its last figures, then it leaves the stream."));
                    CmdletSink.Current?.Post(c => c.WriteObject(usage));
                }
            }));
        }
        finally { base.EndProcessing(); }
    }


    private VzInvalidStateException NotRunning(string name) => Type == VeType.VirtualMachine
        ? new("VzVmNotRunning", $"The VM '{name}' is not running: only a running VM has usage to measure.", name) { RecommendedAction = $"Start it with Start-VzVm '{name}', or measure running VMs with Measure-VzVm *." }
        : new("VzContainerNotRunning", $"The container '{name}' is not running: only a running container has usage to measure.", name) { RecommendedAction = $"Start it with Start-VzContainer '{name}', or measure running containers with Measure-VzContainer *." };
}
