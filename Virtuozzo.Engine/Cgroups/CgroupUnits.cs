namespace Virtuozzo.Engine.Cgroups;

/// <summary>Conversions between prlctl units and cgroup values, as libvzctl does them.</summary>
public static class CgroupUnits
{
    public const int MinCpuUnits = 8, MaxCpuUnits = 500_000, DefaultCpuUnits = 1000;
    public const long DefaultCfsPeriod = 100_000;

    /// <summary>v1 cpu.shares: cpuunits*1024/1000, at least 2 (the kernel's minimum).</summary>
    public static long SharesFromUnits(int units) => Math.Max(2, (long)units * 1024 / 1000);

    /// <summary>v2 cpu.weight: cpuunits/10, clamped to the kernel's 1-10000.</summary>
    public static long WeightFromUnits(int units) => Math.Clamp(units / 10, 1, 10_000);

    /// <summary>CFS quota for a percentage of one CPU (100 = one full CPU).</summary>
    public static long QuotaFromPercent(int percent, long period = DefaultCfsPeriod) => (long)percent * period / 100;

    /// <summary>Percentage of one CPU for a MHz limit, rounded up as prlctl does (ceil(MHz*100/hostMHz)).</summary>
    public static int PercentFromMhz(int mhz, double hostMhz)
    {
        if (hostMhz <= 0) throw new ArgumentOutOfRangeException(nameof(hostMhz), "The host CPU frequency is unknown.");
        return (int)Math.Ceiling(mhz * 100.0 / hostMhz);
    }
}
