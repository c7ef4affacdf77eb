using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qcow2;
using Xunit;

namespace Virtuozzo.Engine.Tests.Qcow2;

/// <summary>The native check finds what qemu-img check finds, and repairs leaks so qemu-img agrees.</summary>
public sealed class Qcow2CheckTests
{
    private static string MakeImage(TempDir dir, string options = "cluster_size=4096")
    {
        var image = dir.File("c.qcow2");
        QemuTools.Img("create", "-f", "qcow2", "-o", options, image, "32M");
        QemuTools.Io(image, "qcow2", "write -P 1 0 256k", "write -P 2 8M 64k", "write -P 3 31M 1M");
        return image;
    }

    [Fact]
    public void LeakedClustersAreFoundAndRepaired()
    {
        using var dir = new TempDir();
        var image = MakeImage(dir);
        using (var w = Qcow2Image.Open(image, writable: true))
            new Qcow2Refcounts(w).Append(5); // counted but referenced by nothing: a leak of 5 clusters
        var (code, qemu) = QemuTools.Check(image);
        Assert.Equal(3, code);
        Assert.Equal(5, qemu.GetProperty("leaks").GetInt64());

        var service = QemuTools.NewService(dir.Path);
        var found = service.Test(image, repairLeaks: false);
        Assert.Equal(5, found.Leaks);
        Assert.Equal(0, found.Corruptions);
        Assert.False(found.IsClean);

        var repaired = service.Test(image, repairLeaks: true);
        Assert.Equal(5, repaired.LeaksFixed);
        Assert.True(repaired.IsClean);
        QemuTools.AssertClean(image);
    }

    [Fact]
    public async Task RefcountTooLowIsACorruptionAndIsNotRepairedNatively()
    {
        using var dir = new TempDir();
        var image = MakeImage(dir);
        using (var w = Qcow2Image.Open(image, writable: true))
        {
            // Find a data cluster through the L1/L2 tables and drop its refcount to 0.
            var l1 = w.ReadL1();
            var l2 = new byte[w.ClusterSize];
            w.ReadL2((long)(l1[0] & Qcow2Image.OffsetMask), l2);
            var host = (long)(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(l2) & Qcow2Image.OffsetMask);
            var refs = new Qcow2Refcounts(w);
            refs.Set(host / w.ClusterSize, 0);
            refs.WriteDirty();
        }
        var (code, qemu) = QemuTools.Check(image);
        Assert.Equal(2, code);
        var service = QemuTools.NewService(dir.Path);
        var found = service.Test(image, repairLeaks: false);
        Assert.Equal(qemu.GetProperty("corruptions").GetInt64(), found.Corruptions);
        Assert.Equal("VzDiskRepairRefused", Assert.Throws<VzInvalidStateException>(() => service.Test(image, repairLeaks: true)).ErrorId);
        Assert.Equal("VzDiskNotClean", (await Assert.ThrowsAsync<VzInvalidStateException>(() => service.ResizeAsync(image, 64L << 20))).ErrorId);
    }

    [Fact]
    public async Task InternalSnapshotsAreCountedLikeQemu()
    {
        using var dir = new TempDir();
        var image = MakeImage(dir, "cluster_size=65536");
        QemuTools.Img("snapshot", "-c", "s1", image);
        QemuTools.Io(image, "qcow2", "write -P 9 0 128k");
        QemuTools.Img("snapshot", "-c", "s2", image);
        QemuTools.Io(image, "qcow2", "write -P 8 8M 128k");
        var service = QemuTools.NewService(dir.Path);
        var info = service.Get(image);
        Assert.Equal(2, info.SnapshotCount);
        Qcow2MatrixTests.AssertAgreesWithQemu(info, QemuTools.Info(image));
        var result = service.Test(image, false);
        Assert.True(result.IsClean, string.Join('\n', result.Messages));
        var (_, qemu) = QemuTools.Check(image);
        Assert.Equal(qemu.GetProperty("image-end-offset").GetInt64(), result.ImageEndOffset);
        await Assert.ThrowsAsync<VzDiskUnsupportedException>(() => service.ResizeAsync(image, 64L << 20));
        var compact = await Assert.ThrowsAsync<VzDiskUnsupportedException>(() => service.OptimizeAsync(image, null));
        Assert.Contains("internal snapshots", compact.Message);
    }

    [Fact]
    public void ExternalDataFileIsRefusedByName()
    {
        using var dir = new TempDir();
        var image = dir.File("x.qcow2");
        QemuTools.Img("create", "-f", "qcow2", "-o", $"data_file={dir.File("x.raw")}", image, "16M");
        var ex = Assert.Throws<VzDiskUnsupportedException>(() => QemuTools.NewService(dir.Path).Get(image));
        Assert.Contains("external data file", ex.Message);
    }

    [Fact]
    public void RawFilesAreDescribedAndNotChecked()
    {
        using var dir = new TempDir();
        var raw = dir.File("r.raw");
        QemuTools.Img("create", "-f", "raw", raw, "8M");
        var service = QemuTools.NewService(dir.Path);
        var info = service.Get(raw);
        Qcow2MatrixTests.AssertAgreesWithQemu(info, QemuTools.Info(raw));
        Assert.Throws<VzDiskUnsupportedException>(() => service.Test(raw, false));
    }
}
