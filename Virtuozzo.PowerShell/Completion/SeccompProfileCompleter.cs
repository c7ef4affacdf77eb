using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Virtuozzo.Commands.Completion;

/// <summary>
/// Completes -SeccompProfile: the two named profiles, then JSON files for a custom one once the word looks like a
/// path. <code>[ArgumentCompleter(typeof(SeccompProfileCompleter))] public string? SeccompProfile { get; set; }</code>
/// </summary>
public sealed class SeccompProfileCompleter : IArgumentCompleter
{
    private static readonly string[] Named = [Engine.Containers.Runtime.SeccompProfile.Default, Engine.Containers.Runtime.SeccompProfile.Unconfined];

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        if (CompletionHelpers.IsExpression(commandAst, wordToComplete)) return [];
        if (!wordToComplete.StartsWith('/'))
        {
            var pattern = CompletionHelpers.PrefixPattern(wordToComplete);
            return Named.Where(n => pattern.IsMatch(n)).Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
        }
        try
        {
            var dir = Path.GetDirectoryName(wordToComplete) is { Length: > 0 } d ? d : "/";
            var prefix = Path.GetFileName(wordToComplete);
            return Directory.EnumerateFileSystemEntries(dir, prefix + "*")
                .Where(p => Directory.Exists(p) || p.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal).Take(100)
                .Select(p => new CompletionResult(p, Path.GetFileName(p), Directory.Exists(p) ? CompletionResultType.ProviderContainer : CompletionResultType.ProviderItem, p))
                .ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException) { return []; }
    }
}
