using System.Runtime.InteropServices;

namespace Virtuozzo.Engine.Disks.Safety;

/// <summary>What kind of file-system object a path is (stat's st_mode), which .NET does not expose.</summary>
public enum FileNodeKind
{
    Missing,
    Regular,
    Directory,
    BlockDevice,
    CharDevice,
    Fifo,
    Socket,
    Symlink,
}

/// <summary>stat(2) of one path: its kind, and for devices the device number.</summary>
public readonly partial record struct FileNode(FileNodeKind Kind, long Size, uint DeviceMajor, uint DeviceMinor)
{
    /// <summary>"major:minor" as /sys/dev/block and /proc/self/mountinfo write it.</summary>
    public string DeviceNumber => $"{DeviceMajor}:{DeviceMinor}";

    /// <summary>Follows symlinks (stat) or not (lstat).</summary>
    public static unsafe FileNode Of(string path, bool followLinks = true)
    {
        byte* buffer = stackalloc byte[256];
        if ((followLinks ? Native.Stat(path, buffer) : Native.Lstat(path, buffer)) != 0)
            return new FileNode(FileNodeKind.Missing, 0, 0, 0);
        // struct stat differs between x86_64 and the generic layout arm64 uses; st_size is at 48 in both.
        var (modeOffset, rdevOffset) = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? (24, 40) : (16, 32);
        var mode = *(uint*)(buffer + modeOffset);
        var rdev = *(ulong*)(buffer + rdevOffset);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => FileNodeKind.Regular,
            0x4000 => FileNodeKind.Directory,
            0x6000 => FileNodeKind.BlockDevice,
            0x2000 => FileNodeKind.CharDevice,
            0x1000 => FileNodeKind.Fifo,
            0xC000 => FileNodeKind.Socket,
            0xA000 => FileNodeKind.Symlink,
            _ => FileNodeKind.Missing,
        };
        // glibc's gnu_dev_major / gnu_dev_minor.
        var major = (uint)(((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfffUL));
        var minor = (uint)((rdev & 0xff) | ((rdev >> 12) & ~0xffUL));
        return new FileNode(kind, *(long*)(buffer + 48), major, minor);
    }

    /// <summary>The path with every symlink resolved (realpath(3)); null when it or its target does not exist.</summary>
    public static unsafe string? RealPath(string path)
    {
        var resolved = Native.RealPath(path, null);
        if (resolved == null) return null;
        try { return Marshal.PtrToStringUTF8((nint)resolved); }
        finally { NativeMemory.Free(resolved); }
    }

    private static unsafe partial class Native
    {
        [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Stat(string path, byte* buffer);

        [LibraryImport("libc", EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Lstat(string path, byte* buffer);

        [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial byte* RealPath(string path, byte* resolved);
    }
}
