using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>Tab completion of template names.</summary>
public sealed class TemplateNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        var names = EngineHost.Get().Containers.Templates.List().Select(t => t.Name)
            .Concat(Engine.Containers.Templates.TemplateStore.WellKnown.Keys).Distinct().Order();
        foreach (var n in names.Where(n => pattern.IsMatch(n)))
            yield return new CompletionResult(n, n, CompletionResultType.ParameterValue, n);
    }
}
