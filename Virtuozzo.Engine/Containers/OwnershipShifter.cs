using Virtuozzo.Engine.Containers.Native;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// Re-owns a root tree from one id range to another (template 0 -> container base, or clone base -> new base),
/// keeping each file's offset in the range, so the container's own users stay who they were. Symlinks are
/// re-owned, not followed; ids outside the source range are mapped to the new range's root. A file with several hard
/// links is re-owned once: a second visit would see an id already in the new range and map it to root.
/// </summary>
public static class OwnershipShifter
{
    public static int Shift(string root, long fromBase, long toBase, long size = IdRangeAllocator.RangeSize, CancellationToken ct = default)
    {
        var count = 0;
        var linked = new HashSet<(ulong, ulong)>();
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var path = pending.Pop();
            if (PosixFiles.Owner(path) is not { } owner) continue;
            PosixFiles.ChangeOwner(path, Map(owner.Uid, fromBase, toBase, size), Map(owner.Gid, fromBase, toBase, size));
            count++;
            var info = new DirectoryInfo(path);
            if (info.Exists && info.LinkTarget is null)
                foreach (var entry in info.EnumerateFileSystemInfos())
                    if (entry is DirectoryInfo { LinkTarget: null }) pending.Push(entry.FullName);
                    else if (PosixFiles.Identity(entry.FullName) is { Links: > 1 } node && !linked.Add((node.Device, node.Inode))) continue;
                    else if (PosixFiles.Owner(entry.FullName) is { } o)
                    {
                        PosixFiles.ChangeOwner(entry.FullName, Map(o.Uid, fromBase, toBase, size), Map(o.Gid, fromBase, toBase, size));
                        count++;
                    }
        }
        return count;
    }

    internal static uint Map(uint id, long fromBase, long toBase, long size)
    {
        var offset = id - fromBase;
        return (uint)(toBase + (offset >= 0 && offset < size ? offset : 0));
    }
}
