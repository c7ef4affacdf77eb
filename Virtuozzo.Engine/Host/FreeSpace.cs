using System.Runtime.InteropServices;

namespace Virtuozzo.Engine.Host;

/// <summary>Free space of the filesystem holding a path (statvfs), for the data root and disk operations.</summary>
public static partial class FreeSpace
{
    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statvfs(string path, byte* buffer);

    /// <summary>Bytes available to root on the filesystem of <paramref name="path"/> or its nearest existing parent.</summary>
    public static unsafe long AvailableBytes(string path)
    {
        var p = Path.GetFullPath(path);
        while (!Directory.Exists(p) && !File.Exists(p)) p = Path.GetDirectoryName(p) ?? "/";
        byte* buffer = stackalloc byte[128];
        if (statvfs(p, buffer) != 0) return 0;
        // x86_64 struct statvfs: f_bsize, f_frsize, f_blocks, f_bfree, f_bavail (unsigned long each).
        var frsize = *(ulong*)(buffer + 8);
        var bfree = *(ulong*)(buffer + 24);
        return (long)(frsize * bfree);
    }
}
