using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Memory;
using Xunit;

namespace Virtuozzo.Engine.Tests.Memory;

public sealed class MemGuaranteeTests
{
    [Theory]
    [InlineData("Auto", null)]
    [InlineData("auto", null)]
    [InlineData("50", 50)]
    [InlineData(" 40 % ", 40)]
    [InlineData("101", 101)]
    public void MemGuaranteeParsesTextAndPrintsItBack(string text, int? percent)
    {
        var g = MemGuarantee.Parse(text);
        Assert.Equal(percent, g.Percent);
        Assert.Equal(g, MemGuarantee.Parse(g.ToString()));
    }

    [Fact]
    public void MemGuaranteeIsCheckedInOnePlaceWithOneErrorId()
    {
        Assert.Throws<FormatException>(() => MemGuarantee.Parse("half"));
        Assert.Equal(MemGuarantee.Auto, default);
        Assert.Equal(100, MemGuarantee.FromPercent(100).Validate("t").Percent);
        foreach (var bad in new[] { -1, 101 })
            Assert.Equal(MemGuarantee.InvalidErrorId, Assert.Throws<VzInvalidArgumentException>(() => MemGuarantee.FromPercent(bad).Validate("t")).ErrorId);
    }
}
