using Virtuozzo.Engine.Qcow2;

namespace Virtuozzo.Engine.Disks;

/// <summary>What <c>New-VzDisk</c> asks for. Null size with a backing disk means "the backing disk's size".</summary>
public sealed record DiskCreateOptions
{
    public required string Path { get; init; }
    public long? Size { get; init; }
    public long ClusterSize { get; init; } = 65536;
    public string Compat { get; init; } = "1.1";
    public bool LazyRefcounts { get; init; }
    public int RefcountBits { get; init; } = 16;
    public Qcow2Preallocation Preallocation { get; init; } = Qcow2Preallocation.Off;

    /// <summary>Absolute path of the backing disk (linked clone / overlay).</summary>
    public string? BackingDisk { get; init; }

    /// <summary>Store the backing path relative to the new disk's folder, so the pair can move together.</summary>
    public bool RelativeBackingPath { get; init; }
}
