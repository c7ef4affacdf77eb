using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Qemu.Cgroup;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Qemu;

public sealed class VmLimitsTests
{
    private static VeConfig Config(int? guarantee, int? limit, int units) => new()
    {
        Type = VeType.VirtualMachine,
        Memory = new MemorySettings { MemorySize = 1024L * 1024 * 1024, GuaranteePercent = guarantee },
        Cpu = new CpuSettings { Count = 2, LimitPercent = limit, Units = units },
        Vm = new VmSettings(),
    };

    [Fact]
    public void A_vm_without_a_guarantee_is_protected_by_the_40_percent_default_plus_overhead_and_has_no_cpu_limit()
    {
        var l = VmCgroup.LimitsFor(Config(null, null, 1000));
        // vcmmd's mem_min: guarantee + 64 MiB + 8 bytes per guest page (262144 pages = 2 MiB).
        Assert.Equal(1024L * 1024 * 1024 * 40 / 100 + (66L << 20), l.MemoryLow);
        Assert.Equal(-1, l.CpuQuotaMicroseconds);
        Assert.Equal(1000, l.CpuUnits);
        Assert.Null(l.MemorySize); // no hard limit: QEMU needs RAM plus overhead
    }

    [Fact]
    public void Cpu_limit_percent_becomes_a_cfs_quota_and_the_guarantee_a_low_mark()
    {
        var l = VmCgroup.LimitsFor(Config(0, 150, 2000));
        Assert.Equal(66L << 20, l.MemoryLow); // no guarantee, but QEMU's own overhead stays protected
        Assert.Equal(150000, l.CpuQuotaMicroseconds);
        Assert.Equal(100000, l.CpuPeriodMicroseconds);
        Assert.Equal(2000, l.CpuUnits);
    }

    [Fact]
    public void Cpu_limit_in_mhz_is_a_quota_of_the_host_frequency_rounded_up()
    {
        var c = Config(0, null, 1000);
        c.Cpu.LimitMhz = 1000;
        // 1000 MHz of a 2596.146 MHz CPU: ceil(1000 * 100000 / 2596.146) = 38519 us per 100 ms period.
        Assert.Equal(38519, VmCgroup.LimitsFor(c, hostMhz: 2596.146).CpuQuotaMicroseconds);
    }
}
