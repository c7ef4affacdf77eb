using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Native;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// An exclusive flock(2) on a lock file: held across processes, released by the kernel if the holder dies,
/// so a killed pwsh never leaves a VE locked. Waits with a timeout and honours cancellation.
/// </summary>
public sealed class FileLock : IDisposable
{
    private readonly SafeFileHandle handle;

    private FileLock(SafeFileHandle handle, string path) { this.handle = handle; Path = path; }

    public string Path { get; }

    public static FileLock Acquire(string path, TimeSpan timeout, object? target, CancellationToken cancellationToken = default)
    {
        // Opened with libc, not File.Open: .NET emulates FileShare with flock(LOCK_SH) on every open, which would
        // collide with the LOCK_EX we take here.
        var fd = LibC.open(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_CLOEXEC, 0x180 /* 0600 */);
        if (fd < 0) throw new IOException($"Cannot open the lock file '{path}' (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var watch = Stopwatch.StartNew();
        var delay = 1;
        while (true)
        {
            if (LibC.flock(fd, LibC.LOCK_EX | LibC.LOCK_NB) == 0) return new FileLock(handle, path);
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno != LibC.EWOULDBLOCK && errno != LibC.EINTR)
            {
                handle.Dispose();
                throw new IOException($"flock on '{path}' failed with errno {errno}.");
            }
            if (watch.Elapsed >= timeout)
            {
                handle.Dispose();
                throw new VzTimeoutException("VzLockTimeout",
                    $"Another Virtuozzo operation holds the lock '{path}' and did not release it within {timeout.TotalSeconds:0} s.", target, timeout)
                { RecommendedAction = "Wait for the other operation to finish (see 'ps' for pwsh processes), then retry." };
            }
            if (cancellationToken.IsCancellationRequested) { handle.Dispose(); cancellationToken.ThrowIfCancellationRequested(); }
            // Short randomized backoff: contention is between a few processes and holds last milliseconds.
            Thread.Sleep(Random.Shared.Next(1, delay + 1));
            delay = Math.Min(delay * 2, 20);
        }
    }

    public void Dispose() => handle.Dispose(); // closing the descriptor releases the flock
}
