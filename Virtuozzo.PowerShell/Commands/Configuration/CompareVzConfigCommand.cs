using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Compares the host with a desired-state file: what Import-VzConfig would create or change, without changing anything.</para>
/// </summary>
[Cmdlet(VerbsData.Compare, "VzConfig")]
[OutputType(typeof(VeConfigImportResult))]
public sealed class CompareVzConfigCommand : VzCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Also return the entries that already match (Action Unchanged).</summary>
    [Parameter]
    public SwitchParameter IncludeEqual { get; set; }

    protected override void ProcessRecord()
    {
        var patterns = Name?.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
        Func<string, bool>? include = patterns is null ? null : n => patterns.Any(p => p.IsMatch(n));
        foreach (var p in Path)
        {
            IEnumerable<string> files;
            try
            {
                files = WildcardPattern.ContainsWildcardCharacters(p)
                    ? GetResolvedProviderPathFromPSPath(p, out _)
                    : [SessionState.Path.GetUnresolvedProviderPathFromPSPath(p)];
            }
            catch (ItemNotFoundException ex) { WriteError(new ErrorRecord(ex, "VzConfigFileNotFound", ErrorCategory.ObjectNotFound, p)); continue; }
            foreach (var file in files)
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
}
