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
        var reference = dir.File("reference.raw");
        QemuTools.Img("convert", "-O", "raw", original, reference);

        var completed = false;
        for (var crashAfter = 0; !completed; crashAfter++)
        {
            Assert.True(crashAfter < 10_000, "the resize never completed");
            var copy = dir.File($"crash{crashAfter}.qcow2");
            File.Copy(original, copy);
            using (var image = Qcow2Image.Open(copy, writable: true))
            {
                image.WritesUntilCrash = crashAfter;
                try { Qcow2Resizer.Resize(image, newSize, false, _ => null); completed = true; }
                catch (IOException ex) when (ex.Message == "simulated power loss") { }
            }
            var (code, result) = QemuTools.Check(copy);
            Assert.True(code is 0 or 3, $"after {crashAfter} writes: qemu-img check exit {code}: {QemuTools.Run("qemu-img", "check", copy).Stderr}");
            var virtualSize = QemuTools.Info(copy).GetProperty("virtual-size").GetInt64();
            Assert.True(virtualSize == size || virtualSize == newSize, $"after {crashAfter} writes: size {virtualSize}");
            QemuTools.AssertSameContent(reference, copy);
            if (completed) Assert.Equal(newSize, virtualSize);
            File.Delete(copy);
            if (completed) output.WriteLine($"{options}: grow takes {crashAfter} writes; every prefix checked");
        }
    }

    [Fact]
    public void ShrinkInterruptedAtEveryWriteLeavesAValidImage()
    {
        using var dir = new TempDir();
        var original = dir.File("original.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", original, "4G");
        QemuTools.Io(original, "qcow2", "write -P 1 0 1M", "write -P 2 3G 1M", "discard 3G 1M");
        var reference = dir.File("reference.raw");
        QemuTools.Img("convert", "-O", "raw", original, reference);
        const long newSize = 64L << 20;
        var completed = false;
        for (var crashAfter = 0; !completed; crashAfter++)
        {
            Assert.True(crashAfter < 10_000, "the resize never completed");
            var copy = dir.File($"crash{crashAfter}.qcow2");
            File.Copy(original, copy);
            using (var image = Qcow2Image.Open(copy, writable: true))
            {
                image.WritesUntilCrash = crashAfter;
                try { Qcow2Resizer.Resize(image, newSize, true, _ => null); completed = true; }
                catch (IOException ex) when (ex.Message == "simulated power loss") { }
            }
            var (code, result) = QemuTools.Check(copy);
            Assert.True(code is 0 or 3, $"after {crashAfter} writes: qemu-img check exit {code}: {result}");
            QemuTools.AssertSameContent(copy, reference); // the smaller image matches the reference's start, the rest of the reference is zero
            File.Delete(copy);
        }
    }
}
