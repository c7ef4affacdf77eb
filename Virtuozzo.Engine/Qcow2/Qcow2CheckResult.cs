namespace Virtuozzo.Engine.Qcow2;

/// <summary>
/// What the native check of a qcow2 image found (the checks <c>qemu-img check</c> does): clusters whose refcount
/// is lower than their real number of references (corruptions: data can be lost), higher (leaks: space is wasted,
/// harmless), and metadata that could not be read at all (check errors). The Qcow2 layer's own type: the disk
/// service maps it to DiskCheckResult, which also carries qemu-img check's findings for other formats.
/// </summary>
public sealed class Qcow2CheckResult
{
    public required string Path { get; init; }

    /// <summary>No corruptions, no leaks, no check errors.</summary>
    public bool IsClean => Corruptions == 0 && Leaks == 0 && CheckErrors == 0;

    public long Corruptions { get; init; }
    public long Leaks { get; init; }
    public long CheckErrors { get; init; }
    public long LeaksFixed { get; init; }

    /// <summary>Guest clusters (virtual size / cluster size), allocated ones, and how scattered they are.</summary>
    public long TotalClusters { get; init; }
    public long AllocatedClusters { get; init; }
    public long FragmentedClusters { get; init; }
    public long CompressedClusters { get; init; }

    /// <summary>End of the last cluster in use: the file could be truncated here.</summary>
    public long ImageEndOffset { get; init; }

    /// <summary>One line per finding, in qemu-img's wording where there is one.</summary>
    public IReadOnlyList<string> Messages { get; init; } = [];
}
