using System.Runtime.InteropServices;

namespace Virtuozzo.Engine.Disks;

/// <summary>Host storage a file occupies (st_blocks * 512), which .NET does not expose.</summary>
internal static unsafe partial class HostFile
{
    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, byte* buffer);

    /// <summary>Bytes allocated on the host; st_blocks sits at offset 64 of struct stat on x86_64 and arm64.</summary>
    public static long AllocatedBytes(string path)
    {
        byte* buffer = stackalloc byte[256];
        return Stat(path, buffer) == 0 ? *(long*)(buffer + 64) * 512 : 0;
    }
}
