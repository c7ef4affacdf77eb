using System.Runtime.InteropServices;

namespace Virtuozzo.Engine.Native;

/// <summary>The few libc calls .NET does not expose: advisory locks, directory fsync, signals to arbitrary pids.</summary>
internal static partial class LibC
{
    public const int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
    public const int EINTR = 4, EWOULDBLOCK = 11, ESRCH = 3;
    public const int O_RDONLY = 0, O_RDWR = 2, O_CREAT = 0x40, O_DIRECTORY = 0x10000, O_CLOEXEC = 0x80000;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int flock(int fd, int operation);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int stat_(string path, byte* buffer);

    /// <summary>Identity of a file: inode and change time (ns). x86_64 struct stat layout (the only host arch we run on).</summary>
    public static unsafe (ulong Inode, long Size, long CTimeNs)? StatIdentity(string path)
    {
        byte* buffer = stackalloc byte[256];
        if (stat_(path, buffer) != 0) return null;
        var inode = *(ulong*)(buffer + 8);
        var size = *(long*)(buffer + 48);
        var ctimeSec = *(long*)(buffer + 104);
        var ctimeNs = *(long*)(buffer + 112);
        return (inode, size, ctimeSec * 1_000_000_000 + ctimeNs);
    }
}
