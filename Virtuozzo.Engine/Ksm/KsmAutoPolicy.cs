using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Ksm;

/// <summary>
/// Set-VzKsm -Policy Auto, decided without I/O by the host service (once a minute, and at once when the set of
/// mergeable VEs changes). Nothing runs while no running VE offers memory to KSM (VMs with MemMerge, the default).
/// <list type="bullet">
/// <item>Where the kernel has the KSM advisor (6.7+): ksmd runs while mergeable VEs run, and the advisor
/// (advisor_mode=scan-time) sizes the scan within <see cref="AdvisorMaxCpuPercent"/> of one CPU, so running it on an
/// unpressured host is cheap and the savings are there before the pressure is (ksmtuned's rule below kept ksmd off on
/// a 24 GiB host until 19 GiB were committed, and then had nothing merged yet). A run that, after
/// <see cref="BackOffScans"/> full scans, saves less than <see cref="MinBenefit"/> stops for <see cref="BackOff"/>:
/// what merged stays merged (run=0 never unmerges), the scanning cost goes.</item>
/// <item>Without the advisor: ksmtuned's rules (shared by MoM and vcmmd). thres = max(20 % of RAM, 2 GiB); ksmd
/// sleeps while the VMs' memory (QEMU RSS, "committed") is under RAM - thres, and otherwise runs, scanning 300 pages
/// more per pass while free memory is under thres and 50 fewer when not, within 64-1250, sleeping 10 ms per 16 GiB of
/// RAM; the kernel's scan rate is then the only CPU bound.</item>
/// </list>
/// It never chooses run=2 (unmerge): stopping keeps what is merged.
/// </summary>
public static class KsmAutoPolicy
{
    public const int Boost = 300, Decay = -50, MinPages = 64, MaxPages = 1250, ThresholdPercent = 20;
    public const long ThresholdConstant = 2048L << 20;
    /// <summary>The advisor's CPU cap for ksmd (the kernel's default is 70 % of a CPU; the reference budget is 15 %).</summary>
    public const int AdvisorMaxCpuPercent = 15;
    /// <summary>A run is judged after this many full scans (the first scan only records checksums; merging starts in the second).</summary>
    public const int BackOffScans = 2;
    /// <summary>Savings (the kernel's general_profit) below this after <see cref="BackOffScans"/> scans are not worth the scanning.</summary>
    public const long MinBenefit = 64L << 20;
    /// <summary>How long a run that did not pay stays stopped before the policy tries again.</summary>
    public static readonly TimeSpan BackOff = TimeSpan.FromMinutes(10);

    public static long Threshold(long total) => Math.Max(total * ThresholdPercent / 100, ThresholdConstant);

    /// <summary>The settings KSM should have now, and why.</summary>
    public static KsmAutoDecision Decide(KsmAutoInput input)
    {
        var (memory, current) = (input.Memory, input.Current);
        if (input.Mergeable <= 0)
            return new KsmAutoDecision(new KsmSettings { Run = KsmRunMode.Stopped }, "no running VE offers memory to KSM");
        if (input.Advisor)
        {
            if (input.BackingOff)
                return new KsmAutoDecision(new KsmSettings { Run = KsmRunMode.Stopped }, "backing off: the last run did not pay");
            var profit = current.GeneralProfitBytes ?? current.SavedBytes;
            if (input.ScansSinceStart >= BackOffScans && profit < MinBenefit)
                return new KsmAutoDecision(new KsmSettings { Run = KsmRunMode.Stopped },
                    $"{input.ScansSinceStart} full scans saved {profit >> 20} MiB (under {MinBenefit >> 20} MiB): stopped for {BackOff.TotalMinutes:0} min", BackOff: true);
            return new KsmAutoDecision(new KsmSettings { Run = KsmRunMode.Running },
                $"{input.Mergeable >> 20} MiB of mergeable VE memory; the kernel advisor sizes the scan within {AdvisorMaxCpuPercent} % of a CPU");
        }
        var thres = Threshold(memory.Total);
        if (input.Committed < memory.Total - thres)
            return new KsmAutoDecision(new KsmSettings { Run = KsmRunMode.Stopped },
                $"VMs hold {input.Committed >> 20} MiB, under RAM less {thres >> 20} MiB (ksmtuned's rule)");
        var delta = memory.Free < thres ? Boost : Decay;
        return new KsmAutoDecision(new KsmSettings
        {
            Run = KsmRunMode.Running,
            SleepMilliseconds = (int)Math.Clamp(10 * (16L << 30) / Math.Max(1, memory.Total), 1, 1000),
            PagesToScan = Math.Clamp(current.PagesToScan + delta, MinPages, MaxPages),
        }, $"VMs hold {input.Committed >> 20} MiB, over RAM less {thres >> 20} MiB (ksmtuned's rule)");
    }
}

/// <summary>What <see cref="KsmAutoPolicy"/> looks at.</summary>
/// <param name="Memory">The host's memory now.</param>
/// <param name="Committed">All running VMs' resident memory (ksmtuned's "committed").</param>
/// <param name="Mergeable">Resident memory of the running VEs that offer it to KSM (VMs with MemMerge).</param>
/// <param name="Current">KSM as the kernel has it now.</param>
/// <param name="Advisor">The kernel has the KSM advisor.</param>
/// <param name="ScansSinceStart">Full scans since the policy started ksmd; 0 when it did not.</param>
/// <param name="BackingOff">Inside the back-off time after a run that did not pay.</param>
public sealed record KsmAutoInput(MemInfo Memory, long Committed, long Mergeable, KsmStatus Current, bool Advisor, long ScansSinceStart = 0, bool BackingOff = false);

/// <summary>The settings KSM should have, a sentence for the service's events, and whether a back-off starts now.</summary>
public sealed record KsmAutoDecision(KsmSettings Settings, string Reason, bool BackOff = false);
