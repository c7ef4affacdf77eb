namespace Virtuozzo.Engine.Qcow2;

/// <summary>What a new qcow2 image looks like. Validated by <see cref="Qcow2Creator"/>.</summary>
public sealed record Qcow2CreateOptions
{
    public required long VirtualSize { get; init; }
    public long ClusterSize { get; init; } = 65536;

    /// <summary>"1.1" (qcow2 version 3, the default) or "0.10" (version 2, for very old QEMU).</summary>
    public string Compat { get; init; } = "1.1";
    public bool LazyRefcounts { get; init; }
    public int RefcountBits { get; init; } = 16;
    public Qcow2Preallocation Preallocation { get; init; } = Qcow2Preallocation.Off;

    /// <summary>Backing file name exactly as it is stored in the image (relative names are relative to the image).</summary>
    public string? BackingFile { get; init; }
    public string? BackingFormat { get; init; }
}
