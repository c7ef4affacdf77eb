using System.Globalization;

namespace Virtuozzo.Engine.Qemu.Process;

/// <summary>
/// Remembers, in the run folder, that the running QEMU's guest let a whole graceful stop time out. A second
/// Stop-VzVm presses the power button again but waits <see cref="RetryWait"/> at most instead of its full -Timeout:
/// a guest with no OS (or no ACPI and no agent) will not act on the second request either. The mark names the QEMU
/// pid, so it never outlives the QEMU it is about (the run folder goes at stop, and a new QEMU has a new pid).
/// </summary>
public static class ShutdownIgnored
{
    public static readonly TimeSpan RetryWait = TimeSpan.FromSeconds(5);

    private static string MarkPath(VmRuntimePaths paths) => Path.Combine(paths.RunDirectory, "shutdown-ignored");

    public static void Record(VmRuntimePaths paths, int pid)
    {
        try { File.WriteAllText(MarkPath(paths), pid.ToString(CultureInfo.InvariantCulture)); }
        catch (IOException) { } // a hint for the next stop, never a reason for this one to fail differently
    }

    public static bool WasIgnored(VmRuntimePaths paths, int pid)
    {
        try { return File.Exists(MarkPath(paths)) && File.ReadAllText(MarkPath(paths)).Trim() == pid.ToString(CultureInfo.InvariantCulture); }
        catch (IOException) { return false; }
    }
}
