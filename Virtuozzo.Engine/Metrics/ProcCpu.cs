using System.Globalization;

namespace Virtuozzo.Engine.Metrics;

/// <summary>A process's CPU time from /proc/PID/stat, for a VM whose QEMU is not in a cgroup with CPU accounting.</summary>
internal static class ProcCpu
{
    /// <summary>Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on every Linux ABI .NET runs on).</summary>
    private const int UserHz = 100;

    public static TimeSpan Time(int pid)
    {
        try { return Parse(File.ReadAllText($"/proc/{pid}/stat")); }
        catch (IOException) { return TimeSpan.Zero; }
        catch (UnauthorizedAccessException) { return TimeSpan.Zero; }
    }

    /// <summary>utime + stime (fields 14 and 15); the command name in parentheses may hold spaces, so fields count from its ')'.</summary>
    internal static TimeSpan Parse(string stat)
    {
        var close = stat.LastIndexOf(')');
        if (close < 0) return TimeSpan.Zero;
        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 13
            || !long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var utime)
            || !long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var stime)) return TimeSpan.Zero;
        return TimeSpan.FromSeconds((double)(utime + stime) / UserHz);
    }
}
