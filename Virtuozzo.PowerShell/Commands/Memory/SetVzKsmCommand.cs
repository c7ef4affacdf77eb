using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Ksm;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Starts, stops or tunes kernel same-page merging (KSM) on this host.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzKsm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsmStatus))]
public sealed class SetVzKsmCommand : VzCmdlet
{
    /// <summary>Running merges pages; Stopped keeps merged pages merged; Unmerge splits them all again.</summary>
    [Parameter(Position = 0)]
    public KsmRunMode? Mode { get; set; }

    /// <summary>Pages ksmd scans per wake-up.</summary>
    [Parameter]
    [ValidateRange(KsmControl.MinPagesToScan, KsmControl.MaxPagesToScan)]
    public int? PagesToScan { get; set; }

    /// <summary>How long ksmd sleeps between scans.</summary>
    [Parameter]
    [ValidateRange(0, 60000)]
    public int? SleepMilliseconds { get; set; }

    /// <summary>Whether pages from different NUMA nodes may merge (changeable only while nothing is merged).</summary>
    [Parameter]
    public bool? MergeAcrossNodes { get; set; }

    /// <summary>Auto: the host service runs KSM by ksmtuned's rules (the kernel's advisor where present); Manual: the values set here stay.</summary>
    [Parameter]
    public KsmPolicyMode? Policy { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var settings = new KsmSettings { Run = Mode, PagesToScan = PagesToScan, SleepMilliseconds = SleepMilliseconds, MergeAcrossNodes = MergeAcrossNodes };
            var changes = string.Join(", ", new[]
            {
                Mode is null ? null : $"run={Mode}", PagesToScan is null ? null : $"pages_to_scan={PagesToScan}",
                SleepMilliseconds is null ? null : $"sleep_millisecs={SleepMilliseconds}", MergeAcrossNodes is null ? null : $"merge_across_nodes={MergeAcrossNodes}",
            }.Where(s => s is not null));
            var engine = Engine;
            if (Policy is { } policy && ShouldProcess("KSM", $"Set the KSM policy to {policy}"))
            {
                Run(() => global::Virtuozzo.Engine.Configuration.HostSettingsEditor.ApplyKsmPolicy(policy));
                if (policy == KsmPolicyMode.Auto && changes.Length > 0)
                    WriteWarning("With -Policy Auto the host service decides KSM's settings and will replace the values given here.");
            }
            if (changes.Length > 0 && ShouldProcess("KSM", $"Set {changes}"))
            {
                var status = Run(() => engine.Ksm.Apply(settings));
                if (PassThru) WriteObject(status);
            }
            else if ((changes.Length == 0 || Policy is not null) && PassThru) WriteObject(Run(() => engine.Ksm.Read()));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, "ksm"); }
        finally { base.EndProcessing(); }
    }
}
