using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Virtuozzo.Commands.Completion;

/// <summary>
/// Completes the disk image paths of the VE that the command line already names (-Name/-VmName/-Id or a piped
/// object): the image files in the VE's folder (.qcow2, .img, .raw, .hdd, .iso). With no VE named it offers nothing,
/// and PowerShell falls back to ordinary path completion.
/// <code>[ArgumentCompleter(typeof(VeDiskPathCompleter))] public string[]? Path { get; set; }</code>
/// </summary>
public sealed class VeDiskPathCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        if (CompletionHelpers.IsExpression(commandAst, wordToComplete)) return [];
        if (CompletionHelpers.BoundVe(fakeBoundParameters) is not { } ve) return [];
        var word = (wordToComplete ?? "").Trim('\'', '"');
        var pattern = WildcardPattern.Get(word + "*", WildcardOptions.IgnoreCase);
        return CompletionHelpers.DiskFiles(ve)
            // Match the full path and the file name, so both "/vz/pri<tab>" and "root<tab>" work.
            .Where(p => pattern.IsMatch(p) || pattern.IsMatch(Path.GetFileName(p)))
            .Order(StringComparer.Ordinal)
            .Select(p => CompletionHelpers.Result(p, $"Disk of {ve.DisplayName}: {Path.GetFileName(p)}"))
            .ToList();
    }
}
