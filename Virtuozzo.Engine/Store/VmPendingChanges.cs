namespace Virtuozzo.Engine.Store;

/// <summary>Settings stored for the next start of a running VM (a field is null when nothing is pending for it).</summary>
public sealed class VmPendingChanges
{
    public int? CpuCount { get; set; }
    public long? MemorySize { get; set; }

    [YamlDotNet.Serialization.YamlIgnore]
    public bool IsEmpty => CpuCount is null && MemorySize is null;

    public override string ToString()
    {
        var parts = new List<string>();
        if (CpuCount is { } c) parts.Add($"CpuCount={c}");
        if (MemorySize is { } m) parts.Add($"MemorySize={m / (1024 * 1024)}MB");
        return string.Join(", ", parts);
    }
}
