using System.Globalization;

namespace Virtuozzo.Engine.Host;

/// <summary>Pressure stall information for memory (/proc/pressure/memory): the share of time tasks stalled on memory.</summary>
public static class MemoryPressure
{
    /// <summary>"some avg10" in percent, or null where the kernel has no PSI (CONFIG_PSI off or psi=0).</summary>
    public static double? ReadSomeAvg10(string path = "/proc/pressure/memory")
    {
        try { return ParseSomeAvg10(File.ReadAllText(path)); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        catch (NotSupportedException) { return null; }
    }

    public static double? ParseSomeAvg10(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("some ", StringComparison.Ordinal)) continue;
            foreach (var field in line.Split(' '))
                if (field.StartsWith("avg10=", StringComparison.Ordinal) &&
                    double.TryParse(field.AsSpan(6), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
        }
        return null;
    }
}
