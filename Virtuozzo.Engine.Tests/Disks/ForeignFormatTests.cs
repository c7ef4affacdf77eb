using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Tests.Qcow2;
using Xunit;

namespace Virtuozzo.Engine.Tests.Disks;

/// <summary>The disk service on images in formats it reads through qemu-img.</summary>
public sealed class ForeignFormatTests
{
    private sealed class Recorder : IProgress<VzProgress>
    {
        public List<VzProgress> Reports { get; } = [];
        public void Report(VzProgress value) { lock (Reports) Reports.Add(value); }
    }

    [Theory]
    [InlineData("vhdx")]
    [InlineData("vmdk")]
    [InlineData("vdi")]
    [InlineData("parallels")]
    public async Task ConvertsToQcow2WithPercentProgressAndDescribesBothAsQemuImgDoes(string format)
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var image = dir.File("d." + format);
        QemuTools.Img("create", "-q", "-f", format, image, "64M");
        QemuTools.Io(image, format, "write -P 0x5a 0 1M", "write -P 0xa5 48M 1M");
        var info = service.Get(image);
        Assert.Equal(format, info.Format);
        Assert.Equal(QemuTools.Info(image).GetProperty("virtual-size").GetInt64(), info.VirtualSize);

        var progress = new Recorder();
        var converted = await service.ConvertAsync(image, DiskFormat.Qcow2, dir.File("out.qcow2"), progress);
        Assert.Equal("qcow2", converted.Format);
        QemuTools.AssertSameContent(image, converted.Path);
        Assert.Contains(progress.Reports, r => r.Completed && r.Percent == 100);
        Assert.All(progress.Reports, r => Assert.InRange(r.Percent ?? 0, 0, 100));
    }

    [Fact]
    public async Task QedGrowsThroughQemuImgAndOtherFormatsAreRefusedUnchanged()
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var qed = dir.File("d.qed");
        QemuTools.Img("create", "-q", "-f", "qed", qed, "64M");
        Assert.Equal(128L << 20, (await service.ResizeAsync(qed, 128L << 20)).VirtualSize);
        QemuTools.AssertClean(qed);

        var vhdx = dir.File("d.vhdx");
        QemuTools.Img("create", "-q", "-f", "vhdx", vhdx, "64M");
        var before = File.ReadAllBytes(vhdx);
        var e = await Assert.ThrowsAsync<VzDiskFormatUnsupportedException>(() => service.ResizeAsync(vhdx, 128L << 20));
        Assert.Equal(DiskFormat.Vhdx, e.Format);
        Assert.Contains("Convert-VzDisk", e.RecommendedAction);
        Assert.Equal(before, File.ReadAllBytes(vhdx));
    }
}
