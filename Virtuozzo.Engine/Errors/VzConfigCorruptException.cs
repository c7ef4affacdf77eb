namespace Virtuozzo.Engine.Errors;

/// <summary>A configuration file on disk cannot be read: truncated, edited into invalid YAML, wrong schema.</summary>
public sealed class VzConfigCorruptException : VzException
{
    public VzConfigCorruptException(string path, long? line, string detail, Exception? inner = null)
        : this(null, path, line, detail, inner) { }

    private VzConfigCorruptException(string? subject, string path, long? line, string detail, Exception? inner)
        : base("VzConfigCorrupt", Compose(subject, path, line, detail), path, inner)
    {
        Path = path;
        Line = line;
        Detail = detail;
    }

    public string Path { get; }
    public long? Line { get; }

    /// <summary>What is wrong, without the file and line.</summary>
    public string Detail { get; }

    /// <summary>
    /// The same error, saying which VE the file belongs to ("The container 'c2' (id ...) cannot be read: ..."), for
    /// a user who named the VE rather than the file.
    /// </summary>
    public VzConfigCorruptException ForVe(string kind, string name, Guid id) =>
        new($"The {kind} '{name}' (id {id}) cannot be read", Path, Line, Detail, InnerException)
        {
            RecommendedAction = $"Fix the file by hand or restore it from a backup; or remove the {kind} with {(kind == "VM" ? "Remove-VzVm" : "Remove-VzContainer")} -Id {id}.",
        };

    private static string Compose(string? subject, string path, long? line, string detail)
    {
        var file = line is null ? $"the configuration file '{path}' is not valid: {detail}" : $"the configuration file '{path}' is not valid at line {line}: {detail}";
        return subject is null ? char.ToUpperInvariant(file[0]) + file[1..] : $"{subject}: {file}";
    }
}
