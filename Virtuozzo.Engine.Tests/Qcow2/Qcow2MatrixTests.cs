using System.Text.Json;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Qcow2;
using Xunit;

namespace Virtuozzo.Engine.Tests.Qcow2;

/// <summary>
/// Images made by qemu-img in every combination that matters, filled by qemu-io: the native description must agree
/// with qemu-img info, the native check with qemu-img check, and a native grow (then shrink back) must leave an
/// image qemu-img checks clean with the same content.
/// </summary>
public sealed class Qcow2MatrixTests
{
    public static TheoryData<string> Matrix()
    {
        var data = new TheoryData<string>();
        foreach (var cs in new[] { "4096", "65536", "2097152" })
        {
            data.Add($"compat=0.10,cluster_size={cs}");
            foreach (var rb in new[] { "1", "16", "64" })
                data.Add($"compat=1.1,cluster_size={cs},refcount_bits={rb}");
            data.Add($"compat=1.1,cluster_size={cs},lazy_refcounts=on");
            data.Add($"compat=1.1,cluster_size={cs},compression_type=zstd");
            data.Add($"compat=1.1,cluster_size={cs},backing");
            data.Add($"compat=0.10,cluster_size={cs},backing");
        }
        foreach (var cs in new[] { "65536", "2097152" })
        {
            data.Add($"compat=1.1,cluster_size={cs},extended_l2=on");
            data.Add($"compat=1.1,cluster_size={cs},extended_l2=on,backing");
        }
        data.Add("compat=1.1,cluster_size=512,refcount_bits=2");
        data.Add("compat=1.1,cluster_size=1024,refcount_bits=8,lazy_refcounts=on");
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task QemuImageIsDescribedCheckedAndResizedLikeQemu(string spec)
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var image = dir.File("disk.qcow2");
        var options = spec.Replace(",backing", "");
        const long size = 64L << 20;
        var args = new List<string> { "create", "-f", "qcow2", "-o", options };
        if (spec.EndsWith(",backing"))
        {
            var baseImage = dir.File("base.qcow2");
            QemuTools.Img("create", "-f", "qcow2", baseImage, size.ToString());
            QemuTools.Io(baseImage, "qcow2", "write -P 0x11 0 3M", "write -P 0x12 40M 1M");
            args.AddRange(["-b", "base.qcow2", "-F", "qcow2"]);
        }
        args.AddRange([image, size.ToString()]);
        QemuTools.Img([.. args]);
        var clusterSize = long.Parse(options.Split(',').Single(o => o.StartsWith("cluster_size="))["cluster_size=".Length..]);
        QemuTools.Io(image, "qcow2", "write -P 0xAA 0 1M", "write -P 0xBB 7M 300k", "write -z 20M 2M", "write -P 0xCC 63M 1M",
            $"write -c -P 0xDD 32M {clusterSize}");

        var info = service.Get(image);
        AssertAgreesWithQemu(info, QemuTools.Info(image));

        using (var opened = Qcow2Image.Open(image))
        {
            var mine = Qcow2Checker.Check(opened, false, default);
            var (code, theirs) = QemuTools.Check(image);
            Assert.Equal(0, code);
            Assert.True(mine.IsClean, string.Join('\n', mine.Messages));
            Assert.Equal(theirs.GetProperty("allocated-clusters").GetInt64(), mine.AllocatedClusters);
            Assert.Equal(theirs.GetProperty("total-clusters").GetInt64(), mine.TotalClusters);
            Assert.Equal(theirs.GetProperty("image-end-offset").GetInt64(), mine.ImageEndOffset);
            if (theirs.TryGetProperty("compressed-clusters", out var cc)) Assert.Equal(cc.GetInt64(), mine.CompressedClusters);
        }

        var reference = dir.File("before.qcow2");
        File.Copy(image, reference);
        // A grow that needs a bigger L1 table (and, for small clusters, new refcount blocks).
        var grown = size * 300;
        await service.ResizeAsync(image, grown, false);
        QemuTools.AssertClean(image);
        Assert.Equal(grown, QemuTools.Info(image).GetProperty("virtual-size").GetInt64());
        QemuTools.AssertSameContent(reference, image);
        QemuTools.Io(image, "qcow2", $"write -P 0xEE {grown - (1 << 20)} 512k");
        QemuTools.AssertClean(image);

        // Shrinking over data is refused; after discarding it (a discard only frees clusters when no backing file
        // could show through), shrinking back is allowed.
        var ex = await Assert.ThrowsAsync<Errors.VzInvalidStateException>(() => service.ResizeAsync(image, size, true));
        Assert.Equal("VzDiskShrinkWouldLoseData", ex.ErrorId);
        QemuTools.AssertClean(image);
        if (spec.EndsWith(",backing")) return;
        QemuTools.Io(image, "qcow2", $"discard {grown - (2 << 20)} 2M");
        await service.ResizeAsync(image, size, true);
        QemuTools.AssertClean(image);
        Assert.Equal(size, QemuTools.Info(image).GetProperty("virtual-size").GetInt64());
        QemuTools.AssertSameContent(reference, image);
    }

    internal static void AssertAgreesWithQemu(DiskInfo info, JsonElement qemu)
    {
        Assert.Equal(qemu.GetProperty("format").GetString(), info.Format);
        Assert.Equal(qemu.GetProperty("virtual-size").GetInt64(), info.VirtualSize);
        Assert.Equal(qemu.GetProperty("actual-size").GetInt64(), info.ActualSize);
        Assert.Equal(qemu.GetProperty("dirty-flag").GetBoolean(), info.IsDirty);
        Assert.Equal(qemu.TryGetProperty("encrypted", out var enc) && enc.GetBoolean(), info.Encrypted);
        Assert.Equal(qemu.TryGetProperty("snapshots", out var snaps) ? snaps.GetArrayLength() : 0, info.SnapshotCount);
        Assert.Equal(qemu.TryGetProperty("backing-filename", out var bf) ? bf.GetString() : null, info.BackingFile);
        Assert.Equal(qemu.TryGetProperty("full-backing-filename", out var fbf) ? fbf.GetString() : null, info.FullBackingFile);
        Assert.Equal(qemu.TryGetProperty("backing-filename-format", out var bff) ? bff.GetString() : null, info.BackingFormat);
        if (info.Format != "qcow2") return;
        Assert.Equal(qemu.GetProperty("cluster-size").GetInt64(), info.ClusterSize);
        var data = qemu.GetProperty("format-specific").GetProperty("data");
        Assert.Equal(data.GetProperty("compat").GetString(), info.Compat);
        Assert.Equal(data.GetProperty("refcount-bits").GetInt32(), info.RefcountBits);
        Assert.Equal(data.TryGetProperty("lazy-refcounts", out var lazy) && lazy.GetBoolean(), info.LazyRefcounts);
        Assert.Equal(data.TryGetProperty("corrupt", out var corrupt) && corrupt.GetBoolean(), info.IsCorrupt);
        Assert.Equal(data.TryGetProperty("extended-l2", out var ext) && ext.GetBoolean(), info.ExtendedL2);
        Assert.Equal(data.GetProperty("compression-type").GetString(), info.CompressionType);
    }
}
