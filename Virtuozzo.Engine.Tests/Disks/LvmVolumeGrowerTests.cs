using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Errors;
using Xunit;

namespace Virtuozzo.Engine.Tests.Disks;

public sealed class LvmVolumeGrowerTests
{
    private const string Lvs = "  root /dev/loop3:0-15\n  data /dev/loop3:16-95\n  swap /dev/loop12:96-99\n";

    [Fact]
    public void ReadsSegmentsOfLvsOutput()
    {
        var s = LvmVolumeGrower.ParseSegments(Lvs);
        Assert.Equal(3, s.Count);
        Assert.Equal(new LvmVolumeGrower.Segment("data", 16, 95), s[1]);
        Assert.Equal(new LvmVolumeGrower.Segment("swap", 96, 99), s[2]);
    }

    [Fact]
    public void DefaultsToTheVolumeThatEndsTheUsedSpace() =>
        Assert.Equal("swap", LvmVolumeGrower.ChooseVolume(LvmVolumeGrower.ParseSegments(Lvs), null, "vg", "img"));

    [Fact]
    public void TakesANamedVolumeAndNamesTheChoicesWhenItIsMissing()
    {
        var s = LvmVolumeGrower.ParseSegments(Lvs);
        Assert.Equal("root", LvmVolumeGrower.ChooseVolume(s, "root", "vg", "img"));
        var ex = Assert.Throws<VzNotFoundException>(() => LvmVolumeGrower.ChooseVolume(s, "home", "vg", "img"));
        Assert.Equal("VzLogicalVolumeNotFound", ex.ErrorId);
        Assert.Contains("root, data, swap", ex.RecommendedAction);
    }
}
