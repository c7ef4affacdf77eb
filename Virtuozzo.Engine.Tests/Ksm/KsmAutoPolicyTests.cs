using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Ksm;

namespace Virtuozzo.Engine.Tests.Ksm;

/// <summary>ksmtuned's rules as Set-VzKsm -Policy Auto applies them, on a 24 GiB host (this project's).</summary>
public sealed class KsmAutoPolicyTests
{
    private const long GiB = 1L << 30;
    private static readonly KsmStatus Now = new() { Available = true, PagesToScan = 100 };

    [Fact]
    public void Ksm_sleeps_while_the_vms_use_less_than_ram_minus_the_threshold()
    {
        // thres = max(20 % of 24 GiB, 2 GiB) = 4.8 GiB; 8 GiB of QEMU RSS is far from 19.2 GiB.
        Assert.Equal(KsmRunMode.Stopped, KsmAutoPolicy.Decide(new MemInfo(24 * GiB, 14 * GiB, 12 * GiB), 8 * GiB, Now, advisor: false).Run);
    }

    [Fact]
    public void Ksm_runs_under_commitment_and_boosts_its_scan_while_free_memory_is_short()
    {
        var s = KsmAutoPolicy.Decide(new MemInfo(24 * GiB, 3 * GiB, 2 * GiB), 20 * GiB, Now, advisor: false);
        Assert.Equal(KsmRunMode.Running, s.Run);
        Assert.Equal(400, s.PagesToScan);
        Assert.Equal(6, s.SleepMilliseconds); // 10 ms x 16 GiB / 24 GiB
        var eased = KsmAutoPolicy.Decide(new MemInfo(24 * GiB, 8 * GiB, 6 * GiB), 20 * GiB, Now with { PagesToScan = 64 }, advisor: false);
        Assert.Equal(64, eased.PagesToScan); // decay stops at the floor
    }

    [Fact]
    public void With_the_kernel_advisor_the_policy_only_decides_run()
    {
        var s = KsmAutoPolicy.Decide(new MemInfo(24 * GiB, 3 * GiB, 2 * GiB), 20 * GiB, Now, advisor: true);
        Assert.Equal(KsmRunMode.Running, s.Run);
        Assert.Null(s.PagesToScan);
        Assert.Null(s.SleepMilliseconds);
    }

    [Fact]
    public void The_threshold_is_never_under_2_GiB()
    {
        Assert.Equal(2048L << 20, KsmAutoPolicy.Threshold(4 * GiB));
        Assert.Equal(24 * GiB / 5, KsmAutoPolicy.Threshold(24 * GiB));
    }
}
