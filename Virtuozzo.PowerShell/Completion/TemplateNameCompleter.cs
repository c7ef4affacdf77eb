using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Virtuozzo.Commands.Infrastructure;

namespace Virtuozzo.Commands.Completion;

/// <summary>
/// Completes OS template names: the cached folders under <see cref="Engine.Configuration.VzPaths.TemplateRoot"/>, and the
/// templates the engine can build.
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
        var pattern = CompletionHelpers.PrefixPattern(wordToComplete);
        try
        {
            var cached = Directory.Exists(root)
                ? Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>().Where(n => n.Length > 0 && n[0] != '.').ToList()
                : [];
            // Templates the engine knows how to build are offered too: New-VzTemplate builds them, and busybox is
            // built on first use.
            var buildable = Engine.Containers.Templates.TemplateStore.WellKnown.Keys.Where(n => !cached.Contains(n, StringComparer.OrdinalIgnoreCase));
            return cached.Select(n => (Name: n, Tip: $"Template {n} ({Path.Combine(root, n)})"))
                .Concat(buildable.Select(n => (Name: n, Tip: $"Template {n} (not built yet)")))
                .Where(t => pattern.IsMatch(t.Name))
                .OrderBy(t => t.Name, StringComparer.OrdinalIgnoreCase)
                .Select(t => CompletionHelpers.Result(t.Name, t.Tip))
                .ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return []; }
    }
}
