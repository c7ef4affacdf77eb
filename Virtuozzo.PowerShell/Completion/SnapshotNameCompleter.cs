using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Virtuozzo.Commands.Completion;

/// <summary>
/// Completes the snapshot names of the VE the command line already names: the internal snapshots recorded in its
/// QCOW2 disks. A VE without snapshots (or without QCOW2 disks, like a container) completes to nothing.
/// <code>[ArgumentCompleter(typeof(SnapshotNameCompleter))] public string? SnapshotName { get; set; }</code>
/// </summary>
public sealed class SnapshotNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        if (CompletionHelpers.IsExpression(commandAst, wordToComplete)) return [];
        if (CompletionHelpers.BoundVe(fakeBoundParameters) is not { } ve) return [];
        var pattern = CompletionHelpers.PrefixPattern(wordToComplete);
        return CompletionHelpers.DiskFiles(ve)
            .Where(p => p.EndsWith(".qcow2", StringComparison.OrdinalIgnoreCase))
            .SelectMany(p => Virtuozzo.Engine.Qcow2.Qcow2SnapshotNames.Read(p).Select(n => (Name: n, Disk: Path.GetFileName(p))))
            .Where(s => s.Name.Length > 0 && pattern.IsMatch(s.Name))
            .GroupBy(s => s.Name, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase)
            .Select(g => CompletionHelpers.Result(g.Key, $"Snapshot {g.Key} of {ve.DisplayName} ({string.Join(", ", g.Select(s => s.Disk))})"))
            .ToList();
    }
}
