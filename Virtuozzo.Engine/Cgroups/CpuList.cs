using System.Text;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Cgroups;

/// <summary>The kernel's CPU list form ("0,2-3"): parsing, validation against the host, canonical text.</summary>
public static class CpuList
{
    /// <summary>
    /// Parses <paramref name="text"/> into sorted CPU numbers. "all" means every CPU below <paramref name="hostCpuCount"/>.
    /// A CPU the host lacks, a reversed range or junk is a <see cref="VzInvalidArgumentException"/>.
    /// </summary>
    public static IReadOnlyList<int> Parse(string text, int hostCpuCount, string parameterName = "CpuMask")
    {
        if (string.Equals(text.Trim(), "all", StringComparison.OrdinalIgnoreCase)) return Enumerable.Range(0, hostCpuCount).ToArray();
        var cpus = new SortedSet<int>();
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (raw.Length == 0) throw Invalid(text, "it has an empty element", parameterName, hostCpuCount);
            var dash = raw.IndexOf('-');
            int lo, hi;
            if (dash < 0)
            {
                if (!int.TryParse(raw, out lo) || lo < 0) throw Invalid(text, $"'{raw}' is not a CPU number", parameterName, hostCpuCount);
                hi = lo;
            }
            else if (!int.TryParse(raw[..dash], out lo) || !int.TryParse(raw[(dash + 1)..], out hi) || lo < 0 || hi < lo)
                throw Invalid(text, $"'{raw}' is not a valid range", parameterName, hostCpuCount);
            if (hi >= hostCpuCount) throw Invalid(text, $"CPU {hi} does not exist on this host", parameterName, hostCpuCount);
            for (var c = lo; c <= hi; c++) cpus.Add(c);
        }
        return cpus.ToArray();
    }

    /// <summary>Canonical list form: ranges collapsed ("0-2,5").</summary>
    public static string Format(IEnumerable<int> cpus)
    {
        var sorted = cpus.Distinct().Order().ToArray();
        var sb = new StringBuilder();
        for (var i = 0; i < sorted.Length; i++)
        {
            var start = sorted[i];
            while (i + 1 < sorted.Length && sorted[i + 1] == sorted[i] + 1) i++;
            if (sb.Length > 0) sb.Append(',');
            sb.Append(start);
            if (sorted[i] != start) sb.Append('-').Append(sorted[i]);
        }
        return sb.ToString();
    }

    /// <summary>Validates and canonicalizes in one step.</summary>
    public static string Normalize(string text, int hostCpuCount, string parameterName = "CpuMask") => Format(Parse(text, hostCpuCount, parameterName));

    private static VzInvalidArgumentException Invalid(string text, string why, string parameterName, int hostCpus) =>
        new("VzInvalidCpuMask", $"The CPU mask '{text}' is not valid: {why}.", text, parameterName)
        { RecommendedAction = $"Use CPU numbers 0-{hostCpus - 1} in list form, for example '0,2-3', or 'all'." };
}
