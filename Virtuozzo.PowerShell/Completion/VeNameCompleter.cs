using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands.Completion;

/// <summary>
/// Completes the names of containers and VMs in the registry of the current data root. Use the subclass that suits
/// the parameter: <see cref="ContainerNameCompleter"/>, <see cref="VmNameCompleter"/>, or this one for both:
/// <code>[ArgumentCompleter(typeof(ContainerNameCompleter))] public string[]? Name { get; set; }</code>
/// Reads ve.yaml files through the store's cache (a stat per VE when warm), never a subprocess.
/// </summary>
public class VeNameCompleter : IArgumentCompleter
{
    private readonly VeType? type;

    /// <summary>Names of every VE, containers and VMs.</summary>
    public VeNameCompleter() : this(null) { }

    protected VeNameCompleter(VeType? type) => this.type = type;

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        if (CompletionHelpers.IsExpression(commandAst, wordToComplete)) return [];
        var pattern = CompletionHelpers.PrefixPattern(wordToComplete);
        // A name given earlier on the same command line (-Name a,<tab>) is not offered again.
        var already = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (fakeBoundParameters?[parameterName] is { } bound)
            foreach (var o in LanguagePrimitives.GetEnumerable(bound) ?? new[] { bound }) if (o?.ToString() is { } s) already.Add(s);
        return CompletionHelpers.ListVes()
            .Where(r => r.Config is { } c && (type is null || c.Type == type) && pattern.IsMatch(c.Name) && !already.Contains(c.Name))
            .OrderBy(r => r.Config!.Name, StringComparer.OrdinalIgnoreCase)
            .Select(r => CompletionHelpers.Result(r.Config!.Name, ToolTip(r)))
            .ToList();
    }

    private static string ToolTip(VeRecord r)
    {
        var c = r.Config!;
        var kind = c.Type == VeType.VirtualMachine ? "VM" : "Container";
        var detail = c.Type == VeType.Container && c.Container?.Template is { Length: > 0 } t ? $", template {t}" : "";
        var state = r.State == VeRegistrationState.Ready ? "" : $" [{r.State}]";
        return $"{kind} {c.Name} ({c.Id}{detail}){state}";
    }
}

/// <summary>Completes container names.</summary>
public sealed class ContainerNameCompleter : VeNameCompleter
{
    public ContainerNameCompleter() : base(VeType.Container) { }
}

/// <summary>Completes VM names.</summary>
public sealed class VmNameCompleter : VeNameCompleter
{
    public VmNameCompleter() : base(VeType.VirtualMachine) { }
}
