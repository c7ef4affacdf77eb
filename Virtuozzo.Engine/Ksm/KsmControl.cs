using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Ksm;

/// <summary>
/// Reads and changes the kernel's KSM through sysfs. The folder is a parameter so tests can point it at a copy;
/// the product always uses /sys/kernel/mm/ksm.
/// </summary>
public sealed class KsmControl(string directory = KsmControl.SysfsDirectory)
{
    public const string SysfsDirectory = "/sys/kernel/mm/ksm";

    /// <summary>vcmmd's bounds for pages_to_scan; the kernel accepts more, but more only burns CPU.</summary>
    public const int MinPagesToScan = 1, MaxPagesToScan = 10_000;

    public string Directory => directory;

    public KsmStatus Read()
    {
        if (!File.Exists(Path.Combine(directory, "run"))) return new KsmStatus { Available = false };
        var pageSize = Environment.SystemPageSize;
        var sharing = Long("pages_sharing");
        return new KsmStatus
        {
            Available = true,
            Run = (KsmRunMode)Long("run"),
            PagesToScan = (int)Long("pages_to_scan"),
            SleepMilliseconds = (int)Long("sleep_millisecs"),
            MergeAcrossNodes = File.Exists(Path.Combine(directory, "merge_across_nodes")) ? Long("merge_across_nodes") == 1 : null,
            PagesShared = Long("pages_shared"),
            PagesSharing = sharing,
            PagesUnshared = Long("pages_unshared"),
            PagesVolatile = Long("pages_volatile"),
            FullScans = Long("full_scans"),
            SavedBytes = sharing * pageSize,
            GeneralProfitBytes = File.Exists(Path.Combine(directory, "general_profit")) ? Long("general_profit") : null,
            // "none [scan-time]": the bracketed word is the mode in force.
            AdvisorMode = HasAdvisor && File.ReadAllText(Path.Combine(directory, "advisor_mode")) is var m && m.IndexOf('[') is >= 0 and var i && m.IndexOf(']', i) is > 0 and var j
                ? m[(i + 1)..j] : null,
            Policy = Configuration.HostSettings.TryLoad()?.KsmPolicy ?? KsmPolicyMode.Manual,
        };
    }

    /// <summary>Applies the given settings. Values are checked first, so a bad value changes nothing.</summary>
    public KsmStatus Apply(KsmSettings settings)
    {
        if (!File.Exists(Path.Combine(directory, "run")))
            throw new VzCapabilityMissingException("VzKsmUnavailable", "This kernel has no KSM (/sys/kernel/mm/ksm is missing).", "ksm", "CONFIG_KSM")
            { RecommendedAction = "Use a kernel built with CONFIG_KSM=y." };
        if (settings.PagesToScan is < MinPagesToScan or > MaxPagesToScan)
            throw new VzInvalidArgumentException("VzInvalidKsmSetting", $"PagesToScan must be {MinPagesToScan}-{MaxPagesToScan}; {settings.PagesToScan} was given.", settings.PagesToScan, "PagesToScan");
        if (settings.SleepMilliseconds is < 0 or > 60_000)
            throw new VzInvalidArgumentException("VzInvalidKsmSetting", $"SleepMilliseconds must be 0-60000; {settings.SleepMilliseconds} was given.", settings.SleepMilliseconds, "SleepMilliseconds");
        if (settings.PagesToScan is { } p) Write("pages_to_scan", p);
        if (settings.SleepMilliseconds is { } s) Write("sleep_millisecs", s);
        // merge_across_nodes can only change while nothing is merged: the kernel says EBUSY otherwise.
        if (settings.MergeAcrossNodes is { } m) Write("merge_across_nodes", m ? 1 : 0);
        if (settings.Run is { } r) Write("run", (int)r);
        return Read();
    }

    /// <summary>The kernel's KSM advisor (6.7+) is present: it tunes the scan rate itself.</summary>
    public bool HasAdvisor => File.Exists(Path.Combine(directory, "advisor_mode"));

    /// <summary>
    /// Turns the advisor to scan-time (it sizes pages_to_scan for a full scan every advisor_target_scan_time, 200 s)
    /// and caps ksmd at <paramref name="maxCpuPercent"/> of one CPU (advisor_max_cpu).
    /// </summary>
    public void EnableAdvisor(int maxCpuPercent)
    {
        if (!HasAdvisor) return;
        if (maxCpuPercent is < 1 or > 100)
            throw new VzInvalidArgumentException("VzInvalidKsmSetting", $"The advisor's CPU cap must be 1-100 %; {maxCpuPercent} was given.", maxCpuPercent, "advisor_max_cpu");
        try
        {
            File.WriteAllText(Path.Combine(directory, "advisor_mode"), "scan-time");
            File.WriteAllText(Path.Combine(directory, "advisor_max_cpu"), maxCpuPercent.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (IOException ex)
        {
            throw new VzInvalidStateException("VzKsmBusy", $"The kernel refused the KSM advisor settings: {ex.Message}", "advisor_mode");
        }
    }

    private long Long(string name) =>
        long.TryParse(File.ReadAllText(Path.Combine(directory, name)).Trim(), out var v) ? v : 0;

    private void Write(string name, int value)
    {
        try { File.WriteAllText(Path.Combine(directory, name), value.ToString(System.Globalization.CultureInfo.InvariantCulture)); }
        catch (IOException ex)
        {
            throw new VzInvalidStateException("VzKsmBusy", $"The kernel refused {name}={value}: {ex.Message}", name)
            { RecommendedAction = name == "merge_across_nodes" ? "Unmerge first: Set-VzKsm -Mode Unmerge, then change it." : null };
        }
    }
}
