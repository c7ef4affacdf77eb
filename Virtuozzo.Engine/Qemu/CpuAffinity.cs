using System.Runtime.InteropServices;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Qemu;

/// <summary>CPU lists ("0,2-3") and sched_setaffinity on single threads (QEMU's vCPU threads).</summary>
public static partial class CpuAffinity
{
    /// <summary>Parses a CPU list; every CPU must exist on this host.</summary>
    public static SortedSet<int> Parse(string list, int hostCpuCount, object? target = null)
    {
        var set = new SortedSet<int>();
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var range = part.Split('-');
            if (range.Length is < 1 or > 2 || !int.TryParse(range[0], out var lo) || !int.TryParse(range[^1], out var hi) || lo < 0 || hi < lo)
                throw Bad(list, target, $"'{part}' is not a CPU number or range.");
            if (hi >= hostCpuCount) throw Bad(list, target, $"CPU {hi} does not exist (this host has CPUs 0-{hostCpuCount - 1}).");
            for (var c = lo; c <= hi; c++) set.Add(c);
        }
        if (set.Count == 0) throw Bad(list, target, "the list is empty.");
        return set;
    }

    /// <summary>The canonical list form ("0-2,5").</summary>
    public static string Format(IEnumerable<int> cpus)
    {
        var sorted = cpus.Distinct().Order().ToList();
        var parts = new List<string>();
        for (var i = 0; i < sorted.Count;)
        {
            var j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(i == j ? $"{sorted[i]}" : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }
        return string.Join(',', parts);
    }

    /// <summary>Pins one thread (by tid) to <paramref name="cpus"/>.</summary>
    public static void SetThreadAffinity(int tid, IEnumerable<int> cpus)
    {
        var mask = new ulong[16]; // 1024 CPUs
        foreach (var c in cpus) mask[c / 64] |= 1UL << (c % 64);
        if (sched_setaffinity(tid, (nuint)(mask.Length * sizeof(ulong)), mask) != 0)
            throw new IOException($"sched_setaffinity({tid}) failed with errno {Marshal.GetLastPInvokeError()}.");
    }

    private static VzInvalidArgumentException Bad(string list, object? target, string why) =>
        new("VzInvalidCpuMask", $"The CPU mask '{list}' is not valid: {why}", target ?? list, "CpuMask")
        { RecommendedAction = "Give host CPUs as a list such as 0,2-3 (see Get-VzHost for the CPU count)." };

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nuint cpusetsize, ulong[] mask);
}
