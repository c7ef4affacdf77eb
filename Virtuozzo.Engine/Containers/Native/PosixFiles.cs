using System.Runtime.InteropServices;

namespace Virtuozzo.Engine.Containers.Native;

/// <summary>lstat/lchown, which .NET does not expose: the root tree of a container is re-owned to its id range.</summary>
internal static unsafe partial class PosixFiles
{
    [LibraryImport("libc", EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lstat_(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lchown_(string path, uint owner, uint group);

    /// <summary>Owner and group of a path without following a final symlink (x86_64 struct stat: st_uid at 28, st_gid at 32).</summary>
    public static (uint Uid, uint Gid)? Owner(string path)
    {
        byte* buffer = stackalloc byte[256];
        if (lstat_(path, buffer) != 0) return null;
        return (*(uint*)(buffer + 28), *(uint*)(buffer + 32));
    }

    [LibraryImport("libc", EntryPoint = "mknod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mknod_(string path, uint mode, ulong dev);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link_(string existing, string link);

    [LibraryImport("libc", EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int chmod_(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int utimensat_(int dirfd, string path, long* times, int flags);

    private const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100;

    /// <summary>lstat of a path: what a copy needs to recreate it (x86_64 struct stat layout, as <see cref="Owner"/>).</summary>
    public static FileStatus? Status(string path)
    {
        byte* b = stackalloc byte[256];
        if (lstat_(path, b) != 0) return null;
        return new FileStatus(*(ulong*)b, *(ulong*)(b + 8), *(ulong*)(b + 16), *(uint*)(b + 24), *(uint*)(b + 28), *(uint*)(b + 32),
            *(ulong*)(b + 40), *(long*)(b + 72), *(long*)(b + 80), *(long*)(b + 88), *(long*)(b + 96));
    }

    /// <summary>Makes a fifo, socket or device node (mode carries the type bits).</summary>
    public static void MakeNode(string path, uint mode, ulong device) => Check(mknod_(path, mode, device), "mknod", path);

    public static void HardLink(string existing, string link) => Check(link_(existing, link), "link", link);

    /// <summary>Sets all twelve permission bits (setuid, setgid, sticky too); not for symlinks.</summary>
    public static void ChangeMode(string path, uint mode) => Check(chmod_(path, mode & 0xFFF), "chmod", path);

    /// <summary>Sets access and modification times to the nanosecond, on the link itself for a symlink.</summary>
    public static void SetTimes(string path, in FileStatus s)
    {
        long* times = stackalloc long[4] { s.AccessSeconds, s.AccessNanoseconds, s.ModifySeconds, s.ModifyNanoseconds };
        Check(utimensat_(AtFdCwd, path, times, AtSymlinkNoFollow), "utimensat", path);
    }

    [LibraryImport("libc", EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint llistxattr_(string path, byte* list, nint size);

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint lgetxattr_(string path, string name, byte* value, nint size);

    [LibraryImport("libc", EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lsetxattr_(string path, string name, byte* value, nint size, int flags);

    /// <summary>
    /// Copies a path's extended attributes, best effort as cp -a does (a target file system without them, or a
    /// namespace this process may not set, skips that attribute). Most files have none: one call finds that out.
    /// </summary>
    public static void CopyExtendedAttributes(string source, string target)
    {
        const int Max = 64 * 1024; // the kernel's limit for a list and for a value
        var small = stackalloc byte[1024];
        var length = llistxattr_(source, small, 1024);
        string[] names;
        if (length > 0) names = System.Text.Encoding.UTF8.GetString(small, (int)length).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        else if (length < 0 && Marshal.GetLastPInvokeError() == 34) // ERANGE: a longer list than the first buffer
        {
            var big = new byte[Max];
            fixed (byte* b = big) length = llistxattr_(source, b, Max);
            if (length <= 0) return;
            names = System.Text.Encoding.UTF8.GetString(big, 0, (int)length).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        else return;
        var value = new byte[Max];
        fixed (byte* v = value)
            foreach (var name in names)
            {
                var n = lgetxattr_(source, name, v, Max);
                if (n >= 0) lsetxattr_(target, name, v, n, 0);
            }
    }

    private static void Check(int result, string call, string path)
    {
        if (result != 0) throw new IOException($"{call} '{path}' failed (errno {Marshal.GetLastPInvokeError()}).");
    }

    /// <summary>Device, inode and link count (x86_64 struct stat: st_dev at 0, st_ino at 8, st_nlink at 16), to re-own a hard-linked file once.</summary>
    public static (ulong Device, ulong Inode, ulong Links)? Identity(string path)
    {
        byte* buffer = stackalloc byte[256];
        if (lstat_(path, buffer) != 0) return null;
        return (*(ulong*)buffer, *(ulong*)(buffer + 8), *(ulong*)(buffer + 16));
    }

    public static void ChangeOwner(string path, uint uid, uint gid)
    {
        if (lchown_(path, uid, gid) != 0)
            throw new IOException($"lchown '{path}' to {uid}:{gid} failed (errno {Marshal.GetLastPInvokeError()}).");
    }
}

/// <summary>The fields of a struct stat a tree copy uses.</summary>
internal readonly record struct FileStatus(ulong Device, ulong Inode, ulong Links, uint Mode, uint Uid, uint Gid, ulong RDevice,
    long AccessSeconds, long AccessNanoseconds, long ModifySeconds, long ModifyNanoseconds)
{
    public uint Type => Mode & 0xF000;
    public bool IsDirectory => Type == 0x4000;
    public bool IsRegular => Type == 0x8000;
    public bool IsSymlink => Type == 0xA000;
}
