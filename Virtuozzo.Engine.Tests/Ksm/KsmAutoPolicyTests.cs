using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Ksm;

namespace Virtuozzo.Engine.Tests.Ksm;

/// <summary>Set-VzKsm -Policy Auto on a 24 GiB host (this project's): ksmtuned's rules, or the kernel advisor where present.</summary>
public sealed class KsmAutoPolicyTests
{
    private const long GiB = 1L << 30, MiB = 1L << 20;
    private static readonly KsmStatus Now = new() { Available = true, PagesToScan = 100 };
    private static readonly MemInfo Idle = new(24 * GiB, 22 * GiB, 21 * GiB);

    private static KsmAutoDecision Decide(MemInfo memory, long committed, KsmStatus current, bool advisor, long? mergeable = null, long scans = 0, bool backingOff = false) =>
        KsmAutoPolicy.Decide(new KsmAutoInput(memory, committed, mergeable ?? committed, current, advisor, scans, backingOff));

    [Fact]
    public void Without_the_advisor_ksm_sleeps_while_the_vms_use_less_than_ram_minus_the_threshold()
    {
        // thres = max(20 % of 24 GiB, 2 GiB) = 4.8 GiB; 8 GiB of QEMU RSS is far from 19.2 GiB.
        var d = Decide(new MemInfo(24 * GiB, 14 * GiB, 12 * GiB), 8 * GiB, Now, advisor: false);
        Assert.Equal(KsmRunMode.Stopped, d.Settings.Run);
        Assert.Contains("ksmtuned", d.Reason);
    }

    [Fact]
    public void Without_the_advisor_ksm_runs_under_commitment_and_boosts_its_scan_while_free_memory_is_short()
    {
        var s = Decide(new MemInfo(24 * GiB, 3 * GiB, 2 * GiB), 20 * GiB, Now, advisor: false).Settings;
        Assert.Equal(KsmRunMode.Running, s.Run);
        Assert.Equal(400, s.PagesToScan);
        Assert.Equal(6, s.SleepMilliseconds); // 10 ms x 16 GiB / 24 GiB
        var eased = Decide(new MemInfo(24 * GiB, 8 * GiB, 6 * GiB), 20 * GiB, Now with { PagesToScan = 64 }, advisor: false).Settings;
        Assert.Equal(64, eased.PagesToScan); // decay stops at the floor
    }

    [Fact]
    public void With_the_advisor_ksm_runs_while_mergeable_vms_run_even_on_an_idle_host_and_leaves_the_scan_rate_to_the_kernel()
    {
        // Two test guests on an idle 24 GiB host: ksmtuned would keep ksmd off; with the advisor bounding its CPU it runs.
        var d = Decide(Idle, 600 * MiB, Now, advisor: true);
        Assert.Equal(KsmRunMode.Running, d.Settings.Run);
        Assert.Null(d.Settings.PagesToScan);
        Assert.Null(d.Settings.SleepMilliseconds);
        Assert.Contains("advisor", d.Reason);
        Assert.False(d.BackOff);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Nothing_runs_while_no_running_ve_offers_memory_to_ksm(bool advisor)
    {
        // VMs with MemMerge off only: their RSS is committed but not mergeable (ksmtuned alone would run ksmd here).
        var d = Decide(new MemInfo(24 * GiB, 3 * GiB, 2 * GiB), 20 * GiB, Now, advisor, mergeable: 0);
        Assert.Equal(KsmRunMode.Stopped, d.Settings.Run);
        Assert.Contains("no running VE", d.Reason);
    }

    [Fact]
    public void With_the_advisor_a_run_that_saves_under_64_MiB_after_two_full_scans_backs_off_and_keeps_what_merged()
    {
        var poor = Now with { Run = KsmRunMode.Running, GeneralProfitBytes = 20 * MiB };
        // One scan is too early to judge: the first only records checksums.
        Assert.Equal(KsmRunMode.Running, Decide(Idle, GiB, poor, advisor: true, scans: 1).Settings.Run);
        var d = Decide(Idle, GiB, poor, advisor: true, scans: 2);
        Assert.Equal(KsmRunMode.Stopped, d.Settings.Run); // run=0, never run=2: the 20 MiB stay merged
        Assert.True(d.BackOff);
        Assert.Contains("under 64 MiB", d.Reason);
        // While backing off it stays stopped; a run that pays goes on.
        Assert.Equal(KsmRunMode.Stopped, Decide(Idle, GiB, Now, advisor: true, backingOff: true).Settings.Run);
        Assert.Equal(KsmRunMode.Running, Decide(Idle, GiB, poor with { GeneralProfitBytes = 300 * MiB }, advisor: true, scans: 5).Settings.Run);
    }

    [Fact]
    public void The_threshold_is_never_under_2_GiB()
    {
        Assert.Equal(2048L << 20, KsmAutoPolicy.Threshold(4 * GiB));
        Assert.Equal(24 * GiB / 5, KsmAutoPolicy.Threshold(24 * GiB));
    }
}
