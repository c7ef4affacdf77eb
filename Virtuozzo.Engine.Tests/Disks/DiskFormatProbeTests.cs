using System.Text;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Disks.Formats;
using Virtuozzo.Engine.Tests.Qcow2;
using Xunit;

namespace Virtuozzo.Engine.Tests.Disks;

/// <summary>Format detection by content: every format qemu-img writes is recognised from what qemu-img wrote, and
/// what is no disk (text, executables, archives, odd sizes) is named.</summary>
public sealed class DiskFormatProbeTests
{
    public static TheoryData<string, DiskFormat> Written => new()
    {
        { "qcow2", DiskFormat.Qcow2 }, { "qcow", DiskFormat.Qcow }, { "vmdk", DiskFormat.Vmdk }, { "vhdx", DiskFormat.Vhdx },
        { "vpc", DiskFormat.Vpc }, { "vdi", DiskFormat.Vdi }, { "parallels", DiskFormat.Parallels }, { "qed", DiskFormat.Qed },
    };

    [Theory]
    [MemberData(nameof(Written))]
    public void RecognisesWhatQemuImgWrites(string qemuFormat, DiskFormat expected)
    {
        using var dir = new TempDir();
        var image = dir.File("d." + qemuFormat);
        QemuTools.Img("create", "-q", "-f", qemuFormat, image, "64M");
        Assert.Equal(expected, Probe(image).Format);
        Assert.Equal(qemuFormat, DiskFormats.QemuName(expected));
        Assert.Equal(expected, DiskFormats.FromQemuName(qemuFormat));
    }

    [Theory]
    [InlineData("monolithicFlat")]
    [InlineData("twoGbMaxExtentSparse")]
    public void RecognisesAVmdkDescriptorFileAsVmdkNotText(string subformat)
    {
        using var dir = new TempDir();
        var image = dir.File("split.vmdk");
        QemuTools.Img("create", "-q", "-f", "vmdk", "-o", "subformat=" + subformat, image, "16M");
        Assert.Equal(DiskFormat.Vmdk, Probe(image).Format);
    }

    [Fact]
    public void RecognisesAFixedVhdByItsFooter()
    {
        using var dir = new TempDir();
        var image = dir.File("fixed.vhd");
        QemuTools.Img("create", "-q", "-f", "vpc", "-o", "subformat=fixed", image, "8M");
        Assert.Equal(DiskFormat.Vpc, Probe(image).Format);
    }

    [Fact]
    public void RawIsASectorAlignedBinaryFile()
    {
        var zeros = new byte[8192];
        Assert.Equal(DiskFormat.Raw, DiskFormatProbe.Probe(zeros.AsSpan(0, 4096), zeros.AsSpan(0, 512), 8192).Format);
        var boot = new byte[512];
        boot[510] = 0x55; boot[511] = 0xaa;
        Assert.Equal(DiskFormat.Raw, DiskFormatProbe.Probe(boot, boot, 1L << 30).Format);
    }

    [Theory]
    [InlineData("root:x:0:0:root:/root:/bin/bash\n", "a text file, not a disk image")]
    [InlineData("#!/bin/sh\necho hi\n", "a text file, not a disk image")]
    [InlineData("Grüße aus München\n", "a text file, not a disk image")]
    public void TextIsNotADiskEvenWhenSectorAligned(string line, string what)
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(line, 4096 / line.Length + 1)))[..4096];
        var r = DiskFormatProbe.Probe(text, text.AsSpan(0, 512), 4096);
        Assert.Null(r.Format);
        Assert.Equal(what, r.NotADisk);
    }

    [Fact]
    public void ElfExecutablesArchivesAndOddSizesAreNotDisks()
    {
        var elf = File.ReadAllBytes("/bin/true");
        Assert.Equal("an ELF executable, not a disk image", DiskFormatProbe.Probe(elf.AsSpan(0, 4096), elf.AsSpan(elf.Length - 512), elf.Length).NotADisk);
        byte[] gzip = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, .. new byte[502]];
        Assert.Equal("a compressed file (gzip), not a disk image", DiskFormatProbe.Probe(gzip, gzip, 512).NotADisk);
        var binary = new byte[1000];
        Assert.Contains("not a whole number of 512-byte sectors", DiskFormatProbe.Probe(binary, binary.AsSpan(488), 1000).NotADisk);
        Assert.Equal("an empty file, not a disk image", DiskFormatProbe.Probe([], [], 0).NotADisk);
    }

    [Fact]
    public void AQcowHeaderCutShortOfItsVersionIsNotTakenForEitherQcow()
    {
        byte[] magicOnly = [(byte)'Q', (byte)'F', (byte)'I', 0xfb];
        Assert.NotEqual(DiskFormat.Qcow2, DiskFormatProbe.ImageFormat(magicOnly, []));
        Assert.NotEqual(DiskFormat.Qcow, DiskFormatProbe.ImageFormat(magicOnly, []));
    }

    private static DiskContent Probe(string path)
    {
        using var h = File.OpenHandle(path);
        return DiskFormatProbe.Probe(h, RandomAccess.GetLength(h));
    }
}
