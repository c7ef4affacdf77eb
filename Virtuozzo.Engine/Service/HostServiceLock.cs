using System.Globalization;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Service;

/// <summary>
/// One host service per data root: an flock on <see cref="HostServicePaths.LockFile"/>, held for the life of the
/// process (the kernel drops it when the process dies, even by kill -9, so a restart never finds a stale lock).
/// </summary>
public static class HostServiceLock
{
    /// <summary>Takes the lock and records this process's pid, or throws naming the pid of the running service.</summary>
    public static FileLock Acquire(HostServicePaths paths)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(paths.LockFile)!);
        Directory.CreateDirectory(paths.Directory);
        FileLock held;
        try { held = FileLock.Acquire(paths.LockFile, TimeSpan.Zero, "hostservice"); }
        catch (VzTimeoutException)
        {
            var pid = ReadPid(paths);
            throw new VzInvalidStateException("VzHostServiceRunning",
                $"The host service for this data root already runs (pid {(pid is { } p ? p.ToString(CultureInfo.InvariantCulture) : "unknown")}, lock {paths.LockFile}).", "hostservice")
            { RecommendedAction = "Use the running one (Get-VzHostService), or stop it first with Stop-VzHostService." };
        }
        AtomicFile.WriteAllText(paths.PidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n",
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return held;
    }

    /// <summary>True while some process holds the lock (probed without waiting, released at once).</summary>
    public static bool IsHeld(HostServicePaths paths)
    {
        if (!File.Exists(paths.LockFile)) return false;
        try
        {
            using var probe = FileLock.Acquire(paths.LockFile, TimeSpan.Zero, "hostservice");
            return false;
        }
        catch (VzTimeoutException) { return true; }
    }

    public static int? ReadPid(HostServicePaths paths)
    {
        try
        {
            return int.TryParse(File.ReadAllText(paths.PidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
