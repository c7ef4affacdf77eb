using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>Tab completion of container names (reads the registry's files; no subprocess).</summary>
public sealed class ContainerNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        foreach (var r in EngineHost.Get().Store.List())
            if (r.Config is { Type: VeType.Container } c && pattern.IsMatch(c.Name))
                yield return new CompletionResult(c.Name, c.Name, CompletionResultType.ParameterValue, c.Name);
    }
}
