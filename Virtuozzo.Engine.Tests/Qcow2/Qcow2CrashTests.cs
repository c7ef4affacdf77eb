using Virtuozzo.Engine.Qcow2;
using Xunit;
using Xunit.Abstractions;

namespace Virtuozzo.Engine.Tests.Qcow2;

/// <summary>
/// A power cut after every possible number of writes of a grow (and of a shrink): what is left on disk is always
/// the old or the new image, qemu-img check finds no corruption (leaked clusters at most), and the data reads
/// back identically. Writes are cut in order, which is what the flushes between the steps guarantee.
/// </summary>
public sealed class Qcow2CrashTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("cluster_size=512,refcount_bits=16", 8L << 20, 3L << 30)]   // L1 moves, new refcount blocks, table moves
    [InlineData("cluster_size=512,refcount_bits=16", 8L << 20, 64L << 30)]  // the refcount table itself must grow
    [InlineData("cluster_size=512,refcount_bits=1", 8L << 20, 1L << 30)]
    [InlineData("compat=0.10,cluster_size=4096", 64L << 20, 64L << 30)]
    public void GrowInterruptedAtEveryWriteLeavesAValidImage(string options, long size, long newSize)
    {
        using var dir = new TempDir();
        var original = dir.File("original.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", "-o", options, original, size.ToString());
        QemuTools.Io(original, "qcow2", "write -P 1 0 1M", $"write -P 2 {size - (1 << 20)} 1M", "write -P 3 3M 512k");
        var writes = CrashAtEveryWrite(dir, original, newSize, allowShrink: false, (copy, reference, completed) =>
        {
            var virtualSize = QemuTools.Info(copy).GetProperty("virtual-size").GetInt64();
            Assert.True(virtualSize == size || virtualSize == newSize, $"size {virtualSize}");
            if (completed) Assert.Equal(newSize, virtualSize);
            QemuTools.AssertSameContent(reference, copy);
        });
        output.WriteLine($"{options}: grow takes {writes} writes; every prefix checked");
    }

    [Fact]
    public void ShrinkInterruptedAtEveryWriteLeavesAValidImage()
    {
        using var dir = new TempDir();
        var original = dir.File("original.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", original, "4G");
        QemuTools.Io(original, "qcow2", "write -P 1 0 1M", "write -P 2 3G 1M", "discard 3G 1M");
        // The smaller image matches the reference's start; the rest of the reference is zero.
        CrashAtEveryWrite(dir, original, 64L << 20, allowShrink: true, (copy, reference, _) => QemuTools.AssertSameContent(copy, reference));
    }

    /// <summary>
    /// Resizes a fresh copy of <paramref name="original"/> once per possible crash point (a power cut after 0, 1, 2...
    /// writes) until a resize completes. After each, qemu-img check must find no corruption (leaks are allowed) and
    /// <paramref name="verify"/> compares the image with the original's data. Returns the writes a full resize takes.
    /// </summary>
    private static int CrashAtEveryWrite(TempDir dir, string original, long newSize, bool allowShrink, Action<string, string, bool> verify)
    {
        var reference = dir.File("reference.raw");
        QemuTools.Img("convert", "-O", "raw", original, reference);
        for (var crashAfter = 0; ; crashAfter++)
        {
            Assert.True(crashAfter < 10_000, "the resize never completed");
            var copy = dir.File($"crash{crashAfter}.qcow2");
            File.Copy(original, copy);
            var completed = false;
            using (var image = Qcow2Image.Open(copy, writable: true))
            {
                image.WritesUntilCrash = crashAfter;
                try { Qcow2Resizer.Resize(image, newSize, allowShrink, _ => null); completed = true; }
                catch (IOException ex) when (ex.Message == "simulated power loss") { }
            }
            var (code, result) = QemuTools.Check(copy);
            Assert.True(code is 0 or 3, $"after {crashAfter} writes: qemu-img check exit {code}: {result}");
            verify(copy, reference, completed);
            File.Delete(copy);
            if (completed) return crashAfter;
        }
    }
}
