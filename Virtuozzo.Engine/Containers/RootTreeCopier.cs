using Virtuozzo.Engine.Containers.Native;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// Copies a template's root tree into a container's private area in one pass, in process, each entry made with
/// its final owner in the container's id range (what <c>cp -a</c> followed by <see cref="OwnershipShifter"/> did
/// with a child process and a second walk of the tree). File data goes through <see cref="File.Copy(string, string)"/>,
/// which clones it (FICLONE) where the file system shares extents (XFS, btrfs) and copies it in the kernel
/// (copy_file_range) elsewhere, so no data passes through this process.
/// <para>
/// Why a copy rather than an overlay of the template: every container owns a distinct id range, so a shared lower
/// layer would need an idmapped mount per container, and the private area would no longer be a self-contained tree:
/// a migration or a backup that archives the private area (or copies the Image layout's file) would miss the
/// template's files, and removing or rebuilding a template would break its containers. A copy keeps the Directory
/// layout a plain folder and the Image layout a file holding everything.
/// </para>
/// Kept as cp -a keeps them: modes (setuid/setgid/sticky), nanosecond times, symlinks as links, hard links as
/// links, fifos and device nodes, extended attributes where the target file system takes them. Ids inside the
/// source range keep their offset; others map to the range's root (as <see cref="OwnershipShifter.Map"/>).
/// </summary>
public static class RootTreeCopier
{
    /// <summary>
    /// Copies the contents of <paramref name="from"/> into <paramref name="to"/> (made if missing; an existing empty
    /// folder, such as a mounted image, is filled) and gives <paramref name="to"/> the source root's owner, mode
    /// and times. Returns the number of entries made.
    /// </summary>
    public static int Copy(string from, string to, long fromBase, long toBase, long size = IdRangeAllocator.RangeSize, CancellationToken ct = default)
    {
        var root = PosixFiles.Status(from) is { IsDirectory: true } s ? s
            : throw new DirectoryNotFoundException($"The template tree '{from}' is not a folder.");
        Directory.CreateDirectory(to);
        var links = new Dictionary<(ulong, ulong), string>();
        var count = CopyChildren(from, to, links, fromBase, toBase, size, ct);
        Finish(from, to, root, fromBase, toBase, size);
        return count + 1;
    }

    private static int CopyChildren(string from, string to, Dictionary<(ulong, ulong), string> links, long fromBase, long toBase, long size, CancellationToken ct)
    {
        var count = 0;
        foreach (var source in Directory.EnumerateFileSystemEntries(from, "*", new EnumerationOptions { AttributesToSkip = 0, RecurseSubdirectories = false }))
        {
            ct.ThrowIfCancellationRequested();
            if (PosixFiles.Status(source) is not { } s) continue; // gone meanwhile
            var target = Path.Combine(to, Path.GetFileName(source));
            if (s.IsDirectory)
            {
                Directory.CreateDirectory(target);
                count += CopyChildren(source, target, links, fromBase, toBase, size, ct);
                Finish(source, target, s, fromBase, toBase, size);
            }
            else if (!s.IsDirectory && s.Links > 1 && links.TryGetValue((s.Device, s.Inode), out var first))
            {
                PosixFiles.HardLink(first, target); // shares the first copy's inode, owner and times
            }
            else
            {
                if (s.IsSymlink) File.CreateSymbolicLink(target, new FileInfo(source).LinkTarget!);
                else if (s.IsRegular) File.Copy(source, target);
                else PosixFiles.MakeNode(target, s.Mode, s.RDevice);
                if (s.Links > 1) links[(s.Device, s.Inode)] = target;
                Finish(source, target, s, fromBase, toBase, size);
            }
            count++;
        }
        return count;
    }

    /// <summary>
    /// Extended attributes, then owner, then mode (chown clears setuid/setgid), then times. The owner change after
    /// the attributes drops file capabilities (security.capability) as the former cp -a + re-own did.
    /// </summary>
    private static void Finish(string source, string path, in FileStatus s, long fromBase, long toBase, long size)
    {
        PosixFiles.CopyExtendedAttributes(source, path);
        PosixFiles.ChangeOwner(path, OwnershipShifter.Map(s.Uid, fromBase, toBase, size), OwnershipShifter.Map(s.Gid, fromBase, toBase, size));
        if (!s.IsSymlink) PosixFiles.ChangeMode(path, s.Mode);
        PosixFiles.SetTimes(path, s);
    }
}
