namespace Virtuozzo.Engine.Errors;

/// <summary>A configuration file on disk cannot be read: truncated, edited into invalid YAML, wrong schema.</summary>
public sealed class VzConfigCorruptException(string path, long? line, string detail, Exception? inner = null)
    : VzException("VzConfigCorrupt",
        line is null ? $"The configuration file '{path}' is not valid: {detail}"
                     : $"The configuration file '{path}' is not valid at line {line}: {detail}",
        path, inner)
{
    public string Path { get; } = path;
    public long? Line { get; } = line;
}
