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
