using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Cgroups;

/// <summary>
/// The one rule for a VE's CPU limit, for containers and VMs alike, as prlctl's <c>--cpulimit N[%|m]</c>: either a
/// percentage of one CPU or MHz, never both. Both are stored as given (<see cref="CpuSettings.LimitPercent"/>,
/// <see cref="CpuSettings.LimitMhz"/>); the CFS quota is worked out when limits are written, MHz with the host's
/// nominal CPU frequency as the Virtuozzo dispatcher does (<c>quota = ceil(MHz * period / hostMHz)</c>).
/// </summary>
public static class CpuLimit
{
    /// <summary>
    /// Checks a requested limit before anything changes: not both units, not negative, MHz only with a known host
    /// frequency, and at most the host's CPUs x 100 %. 0 in either unit removes the limit; 0 beside a value in the
    /// other unit is no conflict, so an object read back (CpuLimit 0, CpuLimitMhz 1300) binds to Set- unchanged.
    /// </summary>
    public static void Validate(int? percent, int? mhz, int hostCpuCount, double hostMhz, object? target)
    {
        if (percent is > 0 && mhz is > 0)
            throw Invalid("VzConflictingCpuLimit", "CpuLimitMhz", target, "Give the CPU limit either in percent or in MHz, not both.", "Use -CpuLimit or -CpuLimitMhz.");
        if (percent is < 0)
            throw Invalid("VzInvalidCpuLimit", "CpuLimit", target, "A CPU limit cannot be negative.", "Give 0 (no limit) or a positive percentage of one CPU.");
        if (mhz is < 0)
            throw Invalid("VzInvalidCpuLimit", "CpuLimitMhz", target, "A CPU limit cannot be negative.", "Give 0 (no limit) or a positive MHz value.");
        if (mhz is > 0 && hostMhz <= 0)
            throw new VzCapabilityMissingException("VzCpuFrequencyUnknown", "The host's CPU frequency is unknown (no cpufreq and no 'cpu MHz' in /proc/cpuinfo), so a MHz limit cannot be converted.", target, "CPU frequency")
            { RecommendedAction = "Give the limit in percent with -CpuLimit." };
        var pct = mhz is > 0 and var m ? CgroupUnits.PercentFromMhz(m, hostMhz) : percent ?? 0;
        if (pct > hostCpuCount * 100)
        {
            var what = mhz is > 0 ? $"{mhz} MHz ({pct} % of one {hostMhz:0} MHz CPU)" : $"{pct} %";
            throw Invalid("VzInvalidCpuLimit", mhz is > 0 ? "CpuLimitMhz" : "CpuLimit", target,
                $"A CPU limit of {what} is more than this host's {hostCpuCount} CPUs (at most {hostCpuCount * 100} %, {hostCpuCount * hostMhz:0} MHz).",
                "Give 0 (no limit) or at most the host's CPU count x 100 %.");
        }
    }

    /// <summary>Stores a validated limit as given: a value in one unit clears the other, 0 (in either) clears both, nothing given leaves it.</summary>
    public static void Store(CpuSettings cpu, int? percent, int? mhz)
    {
        if (percent is > 0) (cpu.LimitPercent, cpu.LimitMhz) = (percent, null);
        else if (mhz is > 0) (cpu.LimitPercent, cpu.LimitMhz) = (null, mhz);
        else if (percent is not null || mhz is not null) (cpu.LimitPercent, cpu.LimitMhz) = (null, null);
    }

    /// <summary>The CFS quota for a period, or null for no limit. MHz is rounded up, as prlctl does.</summary>
    public static long? QuotaMicroseconds(CpuSettings cpu, double hostMhz, long period = CgroupUnits.DefaultCfsPeriod)
    {
        if (cpu.LimitPercent is > 0 and var pct) return CgroupUnits.QuotaFromPercent(pct, period);
        if (cpu.LimitMhz is > 0 and var mhz && hostMhz > 0) return (long)Math.Ceiling(mhz * (double)period / hostMhz);
        return null;
    }

    private static VzInvalidArgumentException Invalid(string id, string parameter, object? target, string message, string action) =>
        new(id, message, target, parameter) { RecommendedAction = action };
}
