using System.Security.Cryptography;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Disks.Safety;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qcow2;
using Virtuozzo.Engine.Tests.Qcow2;
using Xunit;

namespace Virtuozzo.Engine.Tests.Disks;

/// <summary>The disk path gate against real file-system objects, and foreign images with hostile headers.</summary>
public sealed class DiskPathGateTests
{
    [Fact]
    public void RefusesWhatIsNoDiskImageAndSaysWhatItIs()
    {
        using var dir = new TempDir();
        var text = dir.File("passwd");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("root:x:0:0:root:/root:/bin/bash\n", 64)));
        var elf = dir.File("true");
        File.Copy("/bin/true", elf);
        var link = dir.File("lnk.qcow2");
        File.CreateSymbolicLink(link, text);
        var fifo = dir.File("fifo");
        QemuTools.Run("mkfifo", fifo);

        Assert.Equal("a text file, not a disk image", Refused(text).What);
        Assert.Equal("an ELF executable, not a disk image", Refused(elf).What);
        Assert.Equal("a folder", Refused(dir.Path).What);
        Assert.Equal("a FIFO (named pipe)", Refused(fifo).What);
        Assert.Equal("a character device", Refused("/dev/null").What);
        Assert.Equal($"a link to '{text}', which is a text file, not a disk image", Refused(link).What);
        // Even a caller who says "raw" gets no folder or device.
        Assert.Equal("a folder", Assert.Throws<VzDiskPathRefusedException>(() => DiskPathGate.Check(dir.Path, DiskUse.Read, declaredFormat: DiskFormat.Raw)).What);
        Assert.Equal(DiskFormat.Raw, DiskPathGate.Check(text, DiskUse.Read, declaredFormat: DiskFormat.Raw).Format);
    }

    [Fact]
    public void RefusesASocket()
    {
        using var dir = new TempDir();
        var path = dir.File("vm.sock");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        Assert.Equal("a socket", Refused(path).What);
        Assert.Equal(FileNodeKind.Socket, FileNode.Of(path).Kind);
    }

    [Fact]
    public void ResolvesALinkOnceAndActsOnItsTarget()
    {
        using var dir = new TempDir();
        var image = dir.File("real.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", image, "16M");
        var link = dir.File("link.qcow2");
        File.CreateSymbolicLink(link, "real.qcow2");
        var target = DiskPathGate.Check(link, DiskUse.RewriteInPlace);
        Assert.Equal(image, target.Path);
        Assert.Equal(link, target.RequestedPath);
        Assert.Equal(DiskFormat.Qcow2, target.Format);
    }

    [Fact]
    public async Task ConvertInPlaceThroughALinkRewritesTheTargetAndKeepsTheLink()
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var image = dir.File("real.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", image, "16M");
        QemuTools.Io(image, "qcow2", "write -P 0x5a 0 1M");
        var link = dir.File("link.qcow2");
        File.CreateSymbolicLink(link, image);
        var info = await service.ConvertAsync(link, DiskFormat.Raw, null, null);
        Assert.Equal(image, info.Path);
        Assert.Equal("raw", info.Format);
        Assert.Equal(image, new FileInfo(link).LinkTarget);
    }

    [Fact]
    public void NewPathsMustNotExistNotEvenAsADanglingLink()
    {
        using var dir = new TempDir();
        var dangling = dir.File("dangling.qcow2");
        File.CreateSymbolicLink(dangling, dir.File("nowhere"));
        Assert.Equal("VzDiskAlreadyExists", Assert.Throws<VzAlreadyExistsException>(() => DiskPathGate.CheckNewPath(dangling)).ErrorId);
        Assert.Equal("VzDiskDirectoryNotFound", Assert.Throws<VzNotFoundException>(() => DiskPathGate.CheckNewPath(dir.File("no/such.qcow2"))).ErrorId);
    }

    [Fact]
    public void KernelPathsSayWhatTheyAreInsteadOfNotFound()
    {
        using var dir = new TempDir();
        Assert.Equal("a folder", Assert.Throws<VzDiskPathRefusedException>(() => DiskPathGate.RequireRegularFile(dir.Path, "KernelPath")).What);
        Assert.Equal("/bin/true", DiskPathGate.RequireRegularFile("/bin/true", "KernelPath").Replace("/usr", "", StringComparison.Ordinal));
    }

    [Fact]
    public void OneMinimumDiskSize()
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var e = Assert.Throws<VzInvalidArgumentException>(() => service.Create(new DiskCreateOptions { Path = dir.File("zero.qcow2"), Size = 0 }));
        Assert.Equal("VzDiskSizeTooSmall", e.ErrorId);
        Assert.False(File.Exists(dir.File("zero.qcow2")));
    }

    /// <summary>Per format: a header cut short, and a size field at its limit. Each gives VzDiskCorrupt; nothing is written.</summary>
    public static TheoryData<string, int, int, byte[]> Hostile => new()
    {
        { "vdi", 0x50, 0, [] },
        { "vdi", -1, 0x170, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f] },
        { "vdi", -1, 0x180, [0xff, 0xff, 0xff, 0xff] },
        { "qcow", 40, 0, [] }, // qemu-img would read the missing 8 bytes as zeros: the gate sees the cut
        { "qcow", -1, 24, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] },
        { "qed", 100, 0, [] },
        { "qed", -1, 48, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] },
        { "parallels", 40, 0, [] },
        { "parallels", -1, 32, [0xff, 0xff, 0xff, 0xff] },
        { "vmdk", 100, 0, [] },
        { "vmdk", -1, 12, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] },
        { "vpc", 100, 0, [] },
        { "vpc", -1, 512 + 28, [0xff, 0xff, 0xff, 0xff] },
        { "vhdx", 100, 0, [] },
        { "vhdx", 70000, 0, [] },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task HostileHeadersGiveTypedErrorsAndNothingIsWritten(string format, int truncateTo, int patchOffset, byte[] patch)
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var image = dir.File("hostile." + format);
        QemuTools.Img("create", "-q", "-f", format, image, "64M");
        using (var f = new FileStream(image, FileMode.Open, FileAccess.ReadWrite))
        {
            if (truncateTo >= 0) f.SetLength(truncateTo);
            else { f.Position = patchOffset; f.Write(patch); }
        }
        var before = SHA256.HashData(File.ReadAllBytes(image));
        var files = Directory.GetFileSystemEntries(dir.Path).Order().ToArray();

        Assert.Equal("VzDiskCorrupt", Assert.Throws<VzDiskCorruptException>(() => service.Get(image)).ErrorId);
        await Assert.ThrowsAsync<VzDiskCorruptException>(() => service.ConvertAsync(image, DiskFormat.Qcow2, dir.File("out.qcow2"), null));
        await Assert.ThrowsAnyAsync<VzException>(() => service.ResizeAsync(image, 128L << 20));

        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(image)));
        Assert.Equal(files, Directory.GetFileSystemEntries(dir.Path).Order().ToArray());
    }

    private static VzDiskPathRefusedException Refused(string path)
    {
        var e = Assert.Throws<VzDiskPathRefusedException>(() => DiskPathGate.Check(path, DiskUse.Read));
        Assert.Equal("VzDiskPathRefused", e.ErrorId);
        return e;
    }
}
