using System.Management.Automation;
using Virtuozzo.Commands.Completion;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Memory;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Shows the host's memory plan: each VE's limit, guarantee, protection and target, or the host totals.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzMemoryPlan", DefaultParameterSetName = "Entries")]
[OutputType(typeof(MemoryPlanEntry), ParameterSetName = ["Entries"])]
[OutputType(typeof(MemoryPlan), ParameterSetName = ["Summary"])]
public sealed class GetVzMemoryPlanCommand : VzCmdlet
{
    /// <summary>Only VEs whose name matches (wildcards).</summary>
    [Parameter(Position = 0, ParameterSetName = "Entries")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VeNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Output the host totals (with every entry in Entries) instead of one object per VE.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Summary")]
    public SwitchParameter Summary { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var engine = Engine;
            var plan = Run(() => engine.Memory.GetPlan());
            if (Summary) { WriteObject(plan); return; }
            var patterns = Name?.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
            foreach (var entry in plan.Entries)
                if (patterns is null || patterns.Any(p => p.IsMatch(entry.Name))) WriteObject(entry);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, "localhost"); }
        finally { base.EndProcessing(); }
    }
}
