using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Ksm;

/// <summary>
/// Set-VzKsm -Policy Auto, decided without I/O once a minute by the host service, with ksmtuned's rules (shared by
/// MoM and vcmmd): thres = max(20 % of RAM, 2 GiB); ksmd sleeps while the VMs' memory (QEMU RSS, "committed") is
/// under RAM - thres, and otherwise runs, scanning 300 pages more per pass while free memory is under thres and 50
/// fewer when not, within 64-1250, sleeping 10 ms per 16 GiB of RAM. Where the kernel has the KSM advisor (6.7+),
/// the advisor sizes the scan (advisor_mode=scan-time) and the policy only decides run. It never chooses run=2
/// (unmerge): stopping keeps what is merged.
/// </summary>
public static class KsmAutoPolicy
{
    public const int Boost = 300, Decay = -50, MinPages = 64, MaxPages = 1250, ThresholdPercent = 20;
    public const long ThresholdConstant = 2048L << 20;

    public static long Threshold(long total) => Math.Max(total * ThresholdPercent / 100, ThresholdConstant);

    /// <summary>The settings KSM should have now. <paramref name="committed"/>: the VMs' resident memory.</summary>
    public static KsmSettings Decide(MemInfo memory, long committed, KsmStatus current, bool advisor)
    {
        var thres = Threshold(memory.Total);
        if (committed < memory.Total - thres) return new KsmSettings { Run = KsmRunMode.Stopped };
        if (advisor) return new KsmSettings { Run = KsmRunMode.Running };
        var delta = memory.Free < thres ? Boost : Decay;
        return new KsmSettings
        {
            Run = KsmRunMode.Running,
            SleepMilliseconds = (int)Math.Clamp(10 * (16L << 30) / Math.Max(1, memory.Total), 1, 1000),
            PagesToScan = Math.Clamp(current.PagesToScan + delta, MinPages, MaxPages),
        };
    }
}
