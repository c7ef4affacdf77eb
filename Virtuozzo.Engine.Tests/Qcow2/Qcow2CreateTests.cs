using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qcow2;
using Xunit;

namespace Virtuozzo.Engine.Tests.Qcow2;

/// <summary>Images the native code creates are what qemu-img expects: clean, with the options asked for.</summary>
public sealed class Qcow2CreateTests
{
    public static TheoryData<string, long, long, int, bool, Qcow2Preallocation> Cases() => new()
    {
        { "1.1", 64L << 20, 65536, 16, false, Qcow2Preallocation.Off },
        { "1.1", 1L << 30, 512, 1, false, Qcow2Preallocation.Off },
        { "1.1", (10L << 30) + 512, 4096, 64, true, Qcow2Preallocation.Off },
        { "0.10", 3L << 30, 2 << 20, 16, false, Qcow2Preallocation.Off },
        { "1.1", 256L << 20, 4096, 2, false, Qcow2Preallocation.Metadata },
        { "0.10", 100L << 20, 65536, 16, false, Qcow2Preallocation.Metadata },
        { "1.1", 0, 65536, 16, false, Qcow2Preallocation.Off },
        { "1.1", 2L << 40, 2 << 20, 8, false, Qcow2Preallocation.Off },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task CreatedImagePassesQemuCheckAndKeepsDataAcrossGrow(string compat, long size, long clusterSize, int refcountBits, bool lazy, Qcow2Preallocation prealloc)
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var image = dir.File("new.qcow2");
        // The disk service refuses disks under DiskSizes.Minimum (one policy for every cmdlet); the qcow2 layer
        // below it still writes them as qemu-img does, so a 0-byte image is created there directly.
        var info = size >= DiskSizes.Minimum
            ? service.Create(new DiskCreateOptions
            {
                Path = image, Size = size, ClusterSize = clusterSize, Compat = compat, RefcountBits = refcountBits, LazyRefcounts = lazy, Preallocation = prealloc,
            })
            : CreateNatively(service, image, new Qcow2CreateOptions
            {
                VirtualSize = size, ClusterSize = clusterSize, Compat = compat, RefcountBits = refcountBits, LazyRefcounts = lazy, Preallocation = prealloc,
            });
        QemuTools.AssertClean(image);
        var qemu = QemuTools.Info(image);
        Qcow2MatrixTests.AssertAgreesWithQemu(info, qemu);
        Assert.Equal(size, qemu.GetProperty("virtual-size").GetInt64());
        Assert.Equal(clusterSize, qemu.GetProperty("cluster-size").GetInt64());
        Assert.Equal(refcountBits, qemu.GetProperty("format-specific").GetProperty("data").GetProperty("refcount-bits").GetInt32());
        if (prealloc == Qcow2Preallocation.Metadata)
        {
            var map = QemuTools.Img("map", "--output=json", image);
            Assert.DoesNotContain("\"data\": false", map);
        }
        if (size == 0) return;

        var writeSize = Math.Min(size / 2, 1 << 20);
        QemuTools.Io(image, "qcow2", $"write -P 0x5A 0 {writeSize}", $"write -P 0xA5 {size - writeSize} {writeSize}");
        QemuTools.AssertClean(image);
        var reference = dir.File("reference.raw");
        QemuTools.Img("convert", "-O", "raw", image, reference);
        await service.ResizeAsync(image, size * 2 + clusterSize * 3);
        QemuTools.AssertClean(image);
        QemuTools.AssertSameContent(reference, image);
    }

    [Fact]
    public void OverlayRecordsBackingFileAndFormatAndInheritsSize()
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var baseImage = dir.File("base.qcow2");
        QemuTools.Img("create", "-f", "qcow2", baseImage, "96M");
        QemuTools.Io(baseImage, "qcow2", "write -P 0x42 1M 2M");
        var overlay = dir.File("overlay.qcow2");
        var info = service.Create(new DiskCreateOptions { Path = overlay, BackingDisk = baseImage, RelativeBackingPath = true });
        Assert.Equal(96L << 20, info.VirtualSize);
        Assert.Equal("base.qcow2", info.BackingFile);
        Assert.Equal("qcow2", info.BackingFormat);
        QemuTools.AssertClean(overlay);
        QemuTools.AssertSameContent(baseImage, overlay);
        Qcow2MatrixTests.AssertAgreesWithQemu(info, QemuTools.Info(overlay));
    }

    [Fact]
    public void BadOptionsAreRefusedAndLeaveNothingBehind()
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var image = dir.File("bad.qcow2");
        Assert.Equal("VzDiskInvalidClusterSize", Assert.Throws<VzInvalidArgumentException>(() => service.Create(new DiskCreateOptions { Path = image, Size = 1 << 20, ClusterSize = 3000 })).ErrorId);
        Assert.Equal("VzDiskSizeOutOfRange", Assert.Throws<VzInvalidArgumentException>(() => service.Create(new DiskCreateOptions { Path = image, Size = 1L << 60, ClusterSize = 512 })).ErrorId);
        Assert.Equal("VzDiskCompatConflict", Assert.Throws<VzInvalidArgumentException>(() => service.Create(new DiskCreateOptions { Path = image, Size = 1 << 20, Compat = "0.10", LazyRefcounts = true })).ErrorId);
        Assert.Equal("VzDiskSizeRequired", Assert.Throws<VzInvalidArgumentException>(() => service.Create(new DiskCreateOptions { Path = image })).ErrorId);
        Assert.Equal("VzDiskBackingNotFound", Assert.Throws<VzNotFoundException>(() => service.Create(new DiskCreateOptions { Path = image, BackingDisk = dir.File("nope") })).ErrorId);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
        File.WriteAllText(image, "x");
        Assert.Equal("VzDiskAlreadyExists", Assert.Throws<VzAlreadyExistsException>(() => service.Create(new DiskCreateOptions { Path = image, Size = 1 << 20 })).ErrorId);
        Assert.Equal("x", File.ReadAllText(image));
    }

    private static DiskInfo CreateNatively(DiskService service, string image, Qcow2CreateOptions options)
    {
        Qcow2Creator.Create(image, options, CancellationToken.None);
        return service.Get(image);
    }
}
