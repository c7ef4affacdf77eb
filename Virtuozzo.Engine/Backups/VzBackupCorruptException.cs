using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Backups;

/// <summary>A backup whose manifest, files or checksums do not hold: refused before anything is restored.</summary>
public sealed class VzBackupCorruptException(string path, string detail)
    : VzException("VzBackupCorrupt", $"The backup '{path}' is damaged: {detail}. Nothing was restored.", path)
{
    public string Path { get; } = path;
}
