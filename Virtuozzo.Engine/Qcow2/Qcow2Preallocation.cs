namespace Virtuozzo.Engine.Qcow2;

/// <summary>How much of a new image is laid out in advance.</summary>
public enum Qcow2Preallocation
{
    /// <summary>Only the header, L1 table and refcount structures: the file starts at a few hundred KiB.</summary>
    Off,

    /// <summary>Every L2 table and data cluster mapping too (the file is sparse): no metadata writes later.</summary>
    Metadata,
}
