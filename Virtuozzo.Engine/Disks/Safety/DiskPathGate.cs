using Virtuozzo.Engine.Disks.Formats;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Disks.Safety;

/// <summary>
/// The one gate every disk-touching operation passes before it opens a path (the disk cmdlets, VM disks and DVD
/// images, and later snapshots, backups and migration). It resolves symlinks once and hands back the target, so
/// every later step acts on the same file; it refuses folders, FIFOs, sockets and character devices, refuses
/// block devices unless the caller allows one (and even then one that is mounted, holds a mounted partition, is
/// held by LVM/device-mapper/RAID or is active swap, and never for an in-place rewrite); and it recognises the
/// format by content, so a text file or an executable is never taken for a raw disk. It only reads: a refusal
/// leaves the path as it was. Between this check and the open, the path could be swapped by someone who can write
/// its folder; the operations open the resolved regular file without creating it, so that race cannot turn a
/// device or a folder into a target.
/// </summary>
public static class DiskPathGate
{
    /// <summary>Checks an existing disk path for <paramref name="use"/>.</summary>
    /// <param name="path">As the user gave it (relative paths are made absolute).</param>
    /// <param name="use">What the caller is about to do.</param>
    /// <param name="allowBlockDevice">The caller asked for a block device explicitly (-AllowBlockDevice).</param>
    /// <param name="declaredFormat">The format the caller said the image has; Raw accepts a file the content
    /// checks would refuse as "not a raw image" (text, odd size), never one that carries another format's magic.</param>
    /// <param name="parameterName">The parameter the path came in on, for the error.</param>
    public static DiskTarget Check(string path, DiskUse use, bool allowBlockDevice = false, DiskFormat? declaredFormat = null, string parameterName = "Path")
    {
        var full = System.IO.Path.GetFullPath(path);
        var verb = Verb(use);
        var real = FileNode.RealPath(full);
        if (real is null)
        {
            if (FileNode.Of(full, followLinks: false).Kind == FileNodeKind.Symlink)
                throw new VzNotFoundException("VzDiskNotFound", $"'{full}' is a symbolic link whose target does not exist.", full)
                { RecommendedAction = "Fix or remove the link." };
            throw NotFound(full);
        }
        var node = FileNode.Of(real);
        long length;
        switch (node.Kind)
        {
            case FileNodeKind.Regular:
                length = node.Size;
                break;
            case FileNodeKind.BlockDevice:
                if (use == DiskUse.RewriteInPlace)
                    throw Refused(full, real, "a block device", parameterName, verb, "Rewrite devices with the tools made for them; Convert-VzDisk -AllowBlockDevice -DestinationPath copies one into an image file.");
                if (!allowBlockDevice)
                    throw Refused(full, real, "a block device", parameterName, verb, "Give a disk image file, or -AllowBlockDevice where the command offers it to use a whole unused device.");
                if (BlockDeviceUse.Busy(node) is { } busy) throw Refused(full, real, busy, parameterName, verb, "Unmount it, deactivate its volume group or swap, or choose another device.");
                length = BlockDeviceUse.Size(node);
                break;
            default:
                throw Refused(full, real, Describe(node.Kind), parameterName, verb, "Give the path of a disk image file.");
        }

        DiskContent content;
        using (var handle = File.OpenHandle(real, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            content = DiskFormatProbe.Probe(handle, length);
        if (declaredFormat is { } declared)
        {
            if (content.Format is { } found && found != declared && found != DiskFormat.Raw)
                throw Refused(full, real, $"an image in the {DiskFormats.DisplayName(found)} format, not {DiskFormats.DisplayName(declared)}", parameterName, verb,
                    "Leave out the format, or give the one the image has.");
            if (declared == DiskFormat.Raw) content = DiskContent.Image(DiskFormat.Raw);
        }
        if (content.Format is not { } format)
            throw Refused(full, real, content.NotADisk!, parameterName, verb, "Give the path of a disk image (qcow2, raw, VMDK, VHD/VHDX, VDI, Parallels...).");
        var vmdkDescriptor = format == DiskFormat.Vmdk && !IsSparseVmdk(real);
        if (length < DiskFormats.MinimumLength(format, vmdkDescriptor))
            throw new Qcow2.VzDiskCorruptException(full, $"the file has {length} bytes, less than the {DiskFormats.MinimumLength(format)}-byte header of the format (truncated)", DiskFormats.DisplayName(format));
        if (use == DiskUse.Attach && !DiskFormats.CanAttachWritable(format))
            throw new VzDiskFormatUnsupportedException(real, format, "attach as a writable disk");
        return new DiskTarget { RequestedPath = full, Path = real, Format = format, Length = length, IsBlockDevice = node.Kind == FileNodeKind.BlockDevice };
    }

    private static bool IsSparseVmdk(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var h = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return RandomAccess.Read(h, magic, 0) == 4 && (magic.SequenceEqual("KDMV"u8) || magic.SequenceEqual("COWD"u8));
    }

    /// <summary>
    /// A path that must be an existing regular file of any content (a kernel or initrd for direct boot): says what
    /// it is otherwise ("a folder"), instead of "does not exist". Returns the resolved path.
    /// </summary>
    public static string RequireRegularFile(string path, string parameterName, string operation = "boot from")
    {
        var full = System.IO.Path.GetFullPath(path);
        var real = FileNode.RealPath(full) ?? throw new VzNotFoundException("VzFileNotFound", $"The file '{full}' given with -{parameterName} does not exist.", full);
        var node = FileNode.Of(real);
        if (node.Kind != FileNodeKind.Regular) throw Refused(full, real, Describe(node.Kind), parameterName, operation, "Give the path of a file.");
        return real;
    }

    /// <summary>
    /// A path a new image will be created at: it must not exist (not even as a dangling link, which the creation
    /// would follow) and its folder must. Returns the path with its folder's links resolved.
    /// </summary>
    public static string CheckNewPath(string path, string parameterName = "Path")
    {
        var full = System.IO.Path.GetFullPath(path);
        var own = FileNode.Of(full, followLinks: false);
        if (own.Kind != FileNodeKind.Missing)
            throw new VzAlreadyExistsException("VzDiskAlreadyExists", $"'{full}' already exists ({Describe(FileNode.Of(full).Kind)}).", full)
            { RecommendedAction = "Choose another path, or remove it first." };
        var dir = System.IO.Path.GetDirectoryName(full)!;
        var realDir = FileNode.RealPath(dir);
        if (realDir is null)
            throw new VzNotFoundException("VzDiskDirectoryNotFound", $"The folder '{dir}' does not exist.", dir) { RecommendedAction = "Create the folder first." };
        var dirNode = FileNode.Of(realDir);
        if (dirNode.Kind != FileNodeKind.Directory)
            throw Refused(full, full, $"inside {Describe(dirNode.Kind)} ('{dir}'), not a folder", parameterName, "create an image", "Give a path in an existing folder.");
        return System.IO.Path.Combine(realDir, System.IO.Path.GetFileName(full));
    }

    /// <summary>What a file-system object is, in the words of the errors.</summary>
    public static string Describe(FileNodeKind kind) => kind switch
    {
        FileNodeKind.Regular => "a file",
        FileNodeKind.Directory => "a folder",
        FileNodeKind.BlockDevice => "a block device",
        FileNodeKind.CharDevice => "a character device",
        FileNodeKind.Fifo => "a FIFO (named pipe)",
        FileNodeKind.Socket => "a socket",
        FileNodeKind.Symlink => "a symbolic link",
        _ => "not a file",
    };

    private static string Verb(DiskUse use) => use switch
    {
        DiskUse.Read => "use it as a disk image",
        DiskUse.RewriteInPlace => "rewrite it as a disk image",
        DiskUse.Attach => "attach it to a VM as a disk",
        _ => "attach it to a VM as a DVD image",
    };

    private static VzDiskPathRefusedException Refused(string full, string real, string what, string parameterName, string verb, string action)
    {
        if (full != real) what = $"a link to '{real}', which is {what}";
        return new VzDiskPathRefusedException(full, what, parameterName, verb) { RecommendedAction = action };
    }

    private static VzNotFoundException NotFound(string path) =>
        new("VzDiskNotFound", $"The disk image '{path}' does not exist.", path) { RecommendedAction = "Check the path; Get-VzDisk accepts wildcards." };
}
