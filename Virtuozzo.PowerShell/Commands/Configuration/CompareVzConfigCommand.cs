using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Compares the host with a desired-state file: what Import-VzConfig would create or change, without changing anything.</para>
/// </summary>
[Cmdlet(VerbsData.Compare, "VzConfig")]
[OutputType(typeof(VeConfigImportResult))]
public sealed class CompareVzConfigCommand : ConfigFileCmdlet
{
    /// <summary>Also return the entries that already match (Action Unchanged).</summary>
    [Parameter]
    public SwitchParameter IncludeEqual { get; set; }

    protected override void ProcessRecord()
    {
        var include = EntryFilter();
        foreach (var file in ResolveFiles())
        {
            ForItem(file, () =>
            {
                var exchange = Engine.ConfigExchange;
                foreach (var item in Run(() => exchange.Plan(file, include)))
                    if (IncludeEqual || item.Action != VeConfigImportAction.Unchanged) WriteObject(item);
            });
        }
    }
}
