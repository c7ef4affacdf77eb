using Xunit;
using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Tests.Cgroups;

public sealed class CgroupUnitsTests
{
    [Theory]
    [InlineData(1000, 1024)]
    [InlineData(8, 8)]
    [InlineData(500000, 512000)]
    [InlineData(1, 2)] // below the kernel minimum
    public void SharesFollowLibvzctl(int units, long shares) => Assert.Equal(shares, CgroupUnits.SharesFromUnits(units));

    [Theory]
    [InlineData(1000, 100)]
    [InlineData(8, 1)]
    [InlineData(500000, 10000)]
    [InlineData(250, 25)]
    public void WeightIsUnitsOverTenClamped(int units, long weight) => Assert.Equal(weight, CgroupUnits.WeightFromUnits(units));

    [Fact]
    public void QuotaIsPercentOfOnePeriod()
    {
        Assert.Equal(50_000, CgroupUnits.QuotaFromPercent(50));
        Assert.Equal(200_000, CgroupUnits.QuotaFromPercent(200));
    }

    [Fact]
    public void MhzRoundsUp() => Assert.Equal(34, CgroupUnits.PercentFromMhz(1000, 3000));

    [Theory]
    [InlineData("0", 2, "0")]
    [InlineData("1,0", 2, "0-1")]
    [InlineData("all", 4, "0-3")]
    [InlineData("0,2-3,5", 8, "0,2-3,5")]
    public void CpuListNormalizes(string text, int host, string expected) => Assert.Equal(expected, CpuList.Normalize(text, host));

    [Theory]
    [InlineData("2")]
    [InlineData("0-7")]
    [InlineData("3-1")]
    [InlineData("x")]
    [InlineData("0,,1")]
    [InlineData("-1")]
    public void CpuListRejectsWhatTheHostLacks(string text)
    {
        var ex = Assert.Throws<VzInvalidArgumentException>(() => CpuList.Parse(text, 2));
        Assert.Equal("VzInvalidCpuMask", ex.ErrorId);
        Assert.Equal("CpuMask", ex.ParameterName);
    }
}
