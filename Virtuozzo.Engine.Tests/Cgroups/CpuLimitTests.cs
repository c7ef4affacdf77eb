using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;
using Xunit;

namespace Virtuozzo.Engine.Tests.Cgroups;

public sealed class CpuLimitTests
{
    [Fact]
    public void PercentAndMhzAreStoredAsGivenOneUnitAtATime()
    {
        var cpu = new CpuSettings();
        CpuLimit.Store(cpu, 25, null);
        Assert.Equal((25, (int?)null), (cpu.LimitPercent!.Value, cpu.LimitMhz));
        CpuLimit.Store(cpu, null, 650);
        Assert.Equal(((int?)null, 650), (cpu.LimitPercent, cpu.LimitMhz!.Value));
        CpuLimit.Store(cpu, null, null); // not given: left alone
        Assert.Equal(650, cpu.LimitMhz);
        CpuLimit.Store(cpu, 0, null);
        Assert.Equal(((int?)null, (int?)null), (cpu.LimitPercent, cpu.LimitMhz));
    }

    [Theory]
    [InlineData(25, null, 2000.0, 25000L)]
    [InlineData(null, 500, 2000.0, 25000L)]
    [InlineData(null, 1, 3000.0, 34L)]       // rounded up: 33.3 us
    [InlineData(null, 500, 0.0, null)]       // unknown frequency: no quota rather than a wrong one
    [InlineData(null, null, 2000.0, null)]
    public void QuotaComesFromPercentOrFromMhzOverTheHostFrequency(int? pct, int? mhz, double hostMhz, long? quota)
    {
        var cpu = new CpuSettings { LimitPercent = pct, LimitMhz = mhz };
        Assert.Equal(quota, CpuLimit.QuotaMicroseconds(cpu, hostMhz));
    }

    [Theory]
    [InlineData(10, 10, 2000.0, "VzConflictingCpuLimit", "CpuLimitMhz")]
    [InlineData(-1, null, 2000.0, "VzInvalidCpuLimit", "CpuLimit")]
    [InlineData(null, -5, 2000.0, "VzInvalidCpuLimit", "CpuLimitMhz")]
    [InlineData(201, null, 2000.0, "VzInvalidCpuLimit", "CpuLimit")]
    [InlineData(null, 4001, 2000.0, "VzInvalidCpuLimit", "CpuLimitMhz")]
    public void BadLimitsAreTypedErrorsNamingTheParameter(int? pct, int? mhz, double hostMhz, string id, string parameter)
    {
        var ex = Assert.Throws<VzInvalidArgumentException>(() => CpuLimit.Validate(pct, mhz, 2, hostMhz, "ve1"));
        Assert.Equal((id, parameter, "ve1"), (ex.ErrorId, ex.ParameterName, ex.Target));
        Assert.NotNull(ex.RecommendedAction);
    }

    [Fact]
    public void MhzNeedsAKnownHostFrequencyButZeroBesideAValueIsNoConflict()
    {
        var ex = Assert.Throws<VzCapabilityMissingException>(() => CpuLimit.Validate(null, 500, 2, 0, "ve1"));
        Assert.Equal("VzCpuFrequencyUnknown", ex.ErrorId);
        CpuLimit.Validate(0, 500, 2, 2000, "ve1");
        CpuLimit.Validate(40, 0, 2, 2000, "ve1");
        CpuLimit.Validate(0, 0, 2, 0, "ve1");
    }
}
