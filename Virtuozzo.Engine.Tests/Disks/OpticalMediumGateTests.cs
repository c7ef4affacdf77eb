using Virtuozzo.Engine.Disks.Safety;
using Virtuozzo.Engine.Errors;
using Xunit;

namespace Virtuozzo.Engine.Tests.Disks;

public sealed class OpticalMediumGateTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vz-optical-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string File(string name, long descriptorAt, string id)
    {
        var path = Path.Combine(dir, name);
        var bytes = new byte[64 * 1024];
        if (descriptorAt >= 0) System.Text.Encoding.ASCII.GetBytes(id).CopyTo(bytes, descriptorAt);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("CD001")]
    [InlineData("BEA01")]
    [InlineData("NSR02")]
    public void TakesIso9660AndUdfImagesAsRawReadOnlyMedia(string id)
    {
        var t = OpticalMediumGate.Check(File("x.iso", 32769, id));
        Assert.Equal(Engine.Disks.DiskFormat.Raw, t.Format);
        Assert.False(t.IsBlockDevice);
    }

    [Fact]
    public void RefusesAFileWithoutAVolumeDescriptorWhateverItsName()
    {
        var ex = Assert.Throws<VzDiskPathRefusedException>(() => OpticalMediumGate.Check(File("disk.iso", 0, "QFI\xfb")));
        Assert.Contains("not an ISO image", ex.What);
        Assert.Equal("VzDiskPathRefused", ex.ErrorId);
    }

    [Fact]
    public void RefusesFoldersCharacterDevicesAndHardDisks()
    {
        Assert.Contains("folder", Assert.Throws<VzDiskPathRefusedException>(() => OpticalMediumGate.Check(dir)).What);
        Assert.Contains("character device", Assert.Throws<VzDiskPathRefusedException>(() => OpticalMediumGate.Check("/dev/null")).What);
        var disk = new[] { "/dev/loop0", "/dev/vda", "/dev/sda" }.FirstOrDefault(p => FileNode.Of(p).Kind == FileNodeKind.BlockDevice);
        if (disk is not null) Assert.Contains("not an optical drive", Assert.Throws<VzDiskPathRefusedException>(() => OpticalMediumGate.Check(disk)).What);
        Assert.Throws<VzNotFoundException>(() => OpticalMediumGate.Check(Path.Combine(dir, "missing.iso")));
    }
}
