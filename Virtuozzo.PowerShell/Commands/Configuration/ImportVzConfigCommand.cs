using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Creates or updates containers and VMs from a YAML desired-state file written by Export-VzConfig or by hand.</para>
/// </summary>
[Cmdlet(VerbsData.Import, "VzConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VeConfigImportResult))]
public sealed class ImportVzConfigCommand : VzCmdlet
{
    /// <summary>Files to import (wildcards); FileInfo objects bind by FullName.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Import only the entries with these names (wildcards); the whole file is still validated.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var patterns = Name?.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
        Func<string, bool>? include = patterns is null ? null : n => patterns.Any(p => p.IsMatch(n));
        foreach (var file in ResolveFiles())
        {
            ForItem(file, () =>
            {
                var exchange = Engine.ConfigExchange;
                var plan = Run(() => exchange.Plan(file, include));
                foreach (var item in plan)
                {
                    if (item.Action == VeConfigImportAction.Unchanged) { WriteObject(item with { Applied = true }); continue; }
                    var kind = item.Type == VeType.VirtualMachine ? "VM" : "container";
                    var what = item.Action == VeConfigImportAction.Create
                        ? $"Create {kind} from {System.IO.Path.GetFileName(file)} line {item.Line}"
                        : $"Update {kind}: {string.Join("; ", item.Changes)}";
                    if (!ShouldProcess(item.Name, what)) continue;
                    ForItem(item.Name, () => WriteObject(Run(ct => exchange.ApplyAsync(item, ct))));
                }
            });
        }
    }

    private IEnumerable<string> ResolveFiles()
    {
        foreach (var p in Path)
        {
            List<string> resolved;
            try
            {
                resolved = WildcardPattern.ContainsWildcardCharacters(p)
                    ? [.. GetResolvedProviderPathFromPSPath(p, out _)]
                    : [SessionState.Path.GetUnresolvedProviderPathFromPSPath(p)];
            }
            catch (ItemNotFoundException ex) { WriteError(new ErrorRecord(ex, "VzConfigFileNotFound", ErrorCategory.ObjectNotFound, p)); continue; }
            foreach (var r in resolved) yield return r;
        }
    }
}
