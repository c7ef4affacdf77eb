using System.Runtime.InteropServices;

namespace Virtuozzo.Engine.Native;

/// <summary>
/// Puts a terminal into raw mode (cfmakeraw: no line editing, no echo, no signals from Ctrl+C/Ctrl+Z, bytes as
/// typed) and restores the saved settings on dispose, as virsh console does. A descriptor that is no terminal (a
/// pipe in a test) is left as it is.
/// </summary>
public sealed partial class TerminalRawMode : IDisposable
{
    // struct termios is 60 bytes on x86-64 glibc; a larger buffer leaves room on other ABIs.
    private const int TermiosSize = 256;
    private const int TCSANOW = 0;
    private readonly int fd;
    private readonly byte[]? saved;

    private TerminalRawMode(int fd, byte[]? saved) { this.fd = fd; this.saved = saved; }

    public bool IsRaw => saved is not null;

    public static TerminalRawMode Enter(int fd = 0)
    {
        if (isatty(fd) != 1) return new TerminalRawMode(fd, null);
        var saved = new byte[TermiosSize];
        if (tcgetattr(fd, saved) != 0) return new TerminalRawMode(fd, null);
        var raw = (byte[])saved.Clone();
        cfmakeraw(raw);
        return tcsetattr(fd, TCSANOW, raw) == 0 ? new TerminalRawMode(fd, saved) : new TerminalRawMode(fd, null);
    }

    public void Dispose()
    {
        if (saved is not null) _ = tcsetattr(fd, TCSANOW, saved);
    }

    [LibraryImport("libc")] private static partial int isatty(int fd);
    [LibraryImport("libc", SetLastError = true)] private static partial int tcgetattr(int fd, [Out] byte[] termios);
    [LibraryImport("libc", SetLastError = true)] private static partial int tcsetattr(int fd, int action, [In] byte[] termios);
    [LibraryImport("libc")] private static partial void cfmakeraw([In, Out] byte[] termios);
}
