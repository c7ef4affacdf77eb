using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands.Completion;

/// <summary>
/// What every completer shares: matching the typed prefix, quoting, and finding the VE the other parameters of the
/// command line already name. Completers never throw: a completion that fails offers nothing.
/// </summary>
internal static class CompletionHelpers
{
    /// <summary>The typed word without its quotes, as a case-insensitive prefix pattern.</summary>
    public static WildcardPattern PrefixPattern(string? wordToComplete)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        return WildcardPattern.Get(word + "*", WildcardOptions.IgnoreCase);
    }

    /// <summary>Quotes a value that the parser would split or expand; VE names are safe identifiers and stay bare.</summary>
    public static string Quote(string value) =>
        value.Length > 0 && value.All(c => char.IsLetterOrDigit(c) || c is '.' or '_' or '-' or '/' or ':')
            ? value
            : "'" + value.Replace("'", "''") + "'";

    public static CompletionResult Result(string value, string toolTip) =>
        new(Quote(value), value, CompletionResultType.ParameterValue, toolTip);

    /// <summary>The registry of the current data root, read the way Get-VzContainer reads it (cached configs).</summary>
    public static IReadOnlyList<VeRecord> ListVes()
    {
        try { return EngineHost.Get().Store.List(); }
        catch (Exception ex) when (ex is not OutOfMemoryException) { return []; }
    }

    /// <summary>Parameter names that can name the VE a disk or snapshot belongs to, in the order they are tried.</summary>
    private static readonly string[] VeParameterNames = ["VmName", "ContainerName", "VeName", "Name", "Id", "VmId", "VeId", "InputObject", "Vm", "Container"];

    /// <summary>
    /// The VE that the command line already names (by -Name, -VmName, -Id or an object), or null. Wildcards in a
    /// name are honoured only when they match exactly one VE.
    /// </summary>
    public static VeRecord? BoundVe(IDictionary? fakeBoundParameters)
    {
        if (fakeBoundParameters is null) return null;
        foreach (var key in VeParameterNames)
        {
            if (!fakeBoundParameters.Contains(key)) continue;
            var value = fakeBoundParameters[key];
            if (value is PSObject pso) value = pso.BaseObject;
            if (value is object[] { Length: > 0 } arr) value = arr[0] is PSObject p0 ? p0.BaseObject : arr[0];
            var ves = ListVes();
            switch (value)
            {
                case Guid id:
                    return ves.FirstOrDefault(r => r.Id == id);
                case string s when Guid.TryParse(s, out var gid):
                    return ves.FirstOrDefault(r => r.Id == gid);
                case string s:
                    var pattern = WildcardPattern.Get(s, WildcardOptions.IgnoreCase);
                    var hits = ves.Where(r => r.Config is not null && pattern.IsMatch(r.Config.Name)).Take(2).ToList();
                    return hits.Count == 1 ? hits[0] : null;
                case VeRecord r:
                    return r;
                case not null:
                    // An output object (ContainerInfo, VmInfo) from another area: it carries Id.
                    var idProperty = PSObject.AsPSObject(value).Properties["Id"]?.Value;
                    if (idProperty is PSObject ip) idProperty = ip.BaseObject;
                    if (idProperty is Guid g) return ves.FirstOrDefault(r => r.Id == g);
                    break;
            }
        }
        return null;
    }

    /// <summary>Files under a VE's folder that are disk images, depth-limited (a VE folder is small and flat).</summary>
    public static IEnumerable<string> DiskFiles(VeRecord ve)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 3, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        IEnumerable<string> files;
        try { files = Directory.EnumerateFiles(ve.Directory, "*", options).ToList(); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { yield break; }
        foreach (var f in files)
        {
            var ext = Path.GetExtension(f).ToLowerInvariant();
            if (ext is ".qcow2" or ".img" or ".raw" or ".hdd" or ".iso") yield return f;
        }
    }

    /// <summary>Whether the AST has no chance of a useful answer (the user typed a variable or an expression).</summary>
    public static bool IsExpression(CommandAst? ast, string? wordToComplete) =>
        wordToComplete is { Length: > 0 } w && (w[0] == '$' || w[0] == '(' || w[0] == '@');
}
