using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Virtuozzo.Commands.Infrastructure;

namespace Virtuozzo.Commands.Completion;

/// <summary>
/// Completes the names of cached OS templates: the folders under <see cref="Engine.Configuration.VzPaths.TemplateRoot"/>.
/// Folders whose name starts with '.' (work in progress, trash) are not templates.
/// <code>[ArgumentCompleter(typeof(TemplateNameCompleter))] public string Template { get; set; }</code>
/// </summary>
public sealed class TemplateNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        if (CompletionHelpers.IsExpression(commandAst, wordToComplete)) return [];
        string root;
        try { root = EngineHost.Get().Paths.TemplateRoot; }
        catch (Exception ex) when (ex is not OutOfMemoryException) { return []; }
        if (!Directory.Exists(root)) return [];
        var pattern = CompletionHelpers.PrefixPattern(wordToComplete);
        try
        {
            return Directory.EnumerateDirectories(root)
                .Select(Path.GetFileName)
                .OfType<string>()
                .Where(n => n.Length > 0 && n[0] != '.' && pattern.IsMatch(n))
                .Order(StringComparer.OrdinalIgnoreCase)
                .Select(n => CompletionHelpers.Result(n, $"Template {n} ({Path.Combine(root, n)})"))
                .ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return []; }
    }
}
