namespace Virtuozzo.Engine.Host;

/// <summary>CPU model and nominal frequency from /proc/cpuinfo and cpufreq.</summary>
public static class CpuInfo
{
    public static string ModelName() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) is { } line
            ? line[(line.IndexOf(':') + 1)..].Trim() : "unknown";

    /// <summary>The maximum frequency from cpufreq when exposed, else the "cpu MHz" line; 0 when neither exists.</summary>
    public static double NominalMhz()
    {
        const string maxFreq = "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq";
        if (File.Exists(maxFreq) && double.TryParse(File.ReadAllText(maxFreq).Trim(), System.Globalization.CultureInfo.InvariantCulture, out var khz))
            return khz / 1000;
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("cpu MHz", StringComparison.Ordinal));
        return line is not null && double.TryParse(line[(line.IndexOf(':') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture, out var mhz) ? mhz : 0;
    }
}
