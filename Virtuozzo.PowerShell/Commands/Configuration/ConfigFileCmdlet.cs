using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;

namespace Virtuozzo.Commands;

/// <summary>
/// Base of the cmdlets that read desired-state files (Import-VzConfig, Compare-VzConfig): -Path with wildcards and
/// FileInfo binding, and -Name to pick entries of the files.
/// </summary>
public abstract class ConfigFileCmdlet : VzCmdlet
{
    /// <summary>Desired-state files (wildcards); FileInfo objects bind by FullName.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Only the entries with these names (wildcards); the whole file is still validated.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.VeNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>The -Name filter as a predicate on entry names; null when every entry counts.</summary>
    protected Func<string, bool>? EntryFilter()
    {
        var patterns = Name?.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
        return patterns is null ? null : n => patterns.Any(p => p.IsMatch(n));
    }

    /// <summary>The files -Path names: wildcards expanded, literal paths as given (a missing one is the engine's error).</summary>
    protected IEnumerable<string> ResolveFiles()
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
