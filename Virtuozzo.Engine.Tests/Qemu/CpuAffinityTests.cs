using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu;

namespace Virtuozzo.Engine.Tests.Qemu;

public sealed class CpuAffinityTests
{
    [Theory]
    [InlineData("1", 4, "1")]
    [InlineData("0,2-3", 4, "0,2-3")]
    [InlineData("3,0,1,2", 4, "0-3")]
    [InlineData(" 0 , 2 ", 4, "0,2")]
    public void Parses_and_formats_cpu_lists(string list, int cpus, string canonical) =>
        Assert.Equal(canonical, CpuAffinity.Format(CpuAffinity.Parse(list, cpus)));

    [Theory]
    [InlineData("4", 4)]
    [InlineData("2-1", 4)]
    [InlineData("a", 4)]
    [InlineData("", 4)]
    [InlineData("-1", 4)]
    public void Refuses_bad_lists_naming_the_parameter(string list, int cpus)
    {
        var ex = Assert.Throws<VzInvalidArgumentException>(() => CpuAffinity.Parse(list, cpus));
        Assert.Equal("CpuMask", ex.ParameterName);
        Assert.Equal("VzInvalidCpuMask", ex.ErrorId);
    }
}
