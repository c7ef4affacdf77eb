using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>
/// QEMU marks an image it has open with open-file-description byte-range locks on bytes 100.. and 200.. of the
/// file. Taking a write lock on that range fails while any QEMU process (a VM, qemu-img, qemu-io) holds it, which
/// is how offline operations refuse an image in use. The lock is released when the handle closes.
/// </summary>
internal static partial class Qcow2FileLock
{
    private const int FOfdSetLk = 37;
    private const short FWrLck = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, ref Flock flock);

    /// <summary>True when this handle now holds QEMU's lock bytes exclusively.</summary>
    public static bool TryLockExclusive(SafeFileHandle handle)
    {
        var flock = new Flock { Type = FWrLck, Whence = 0, Start = 100, Length = 200 };
        var added = false;
        handle.DangerousAddRef(ref added);
        try { return Fcntl((int)handle.DangerousGetHandle(), FOfdSetLk, ref flock) == 0; }
        finally { if (added) handle.DangerousRelease(); }
    }
}
