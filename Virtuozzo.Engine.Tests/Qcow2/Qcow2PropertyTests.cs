using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qcow2;
using Xunit;
using Xunit.Abstractions;

namespace Virtuozzo.Engine.Tests.Qcow2;

/// <summary>
/// Random sequences of create / grow / write (qemu-io) / shrink against a raw reference file written the same way:
/// after every step the native check is clean, and every few steps qemu-img check is clean and qemu-img compare
/// finds the qcow2 image and the reference identical. The seed is printed so a failure can be replayed.
/// </summary>
public sealed class Qcow2PropertyTests(ITestOutputHelper output)
{
    private sealed record Disk(string Image, string Reference)
    {
        public long Size { get; set; }
    }

    [Theory]
    [InlineData(20260101, 150)]
    [InlineData(7, 150)]
    public async Task RandomCreateGrowWriteShrinkNeverCorruptsOrLosesData(int seed, int steps)
    {
        output.WriteLine($"seed {seed}");
        var rng = new Random(seed);
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var disks = new List<Disk>();
        long[] clusterSizes = [512, 4096, 65536, 2 << 20];
        int[] refcountBits = [1, 2, 4, 8, 16, 32, 64];

        for (var step = 0; step < steps; step++)
        {
            var op = disks.Count == 0 || (disks.Count < 3 && rng.Next(12) == 0) ? "create" : rng.Next(10) switch
            {
                < 5 => "write",
                < 7 => "grow",
                _ => "shrink",
            };
            var disk = op == "create" ? null : disks[rng.Next(disks.Count)];
            string detail;
            switch (op)
            {
                case "create":
                {
                    var v2 = rng.Next(4) == 0;
                    var cs = clusterSizes[rng.Next(clusterSizes.Length)];
                    var size = rng.NextInt64(0, 256L << 20) / 512 * 512;
                    var name = $"d{disks.Count}";
                    disk = new Disk(dir.File(name + ".qcow2"), dir.File(name + ".raw")) { Size = size };
                    var bits = v2 ? 16 : refcountBits[rng.Next(refcountBits.Length)];
                    service.Create(new DiskCreateOptions
                    {
                        Path = disk.Image, Size = size, ClusterSize = cs, Compat = v2 ? "0.10" : "1.1", RefcountBits = bits,
                        LazyRefcounts = !v2 && rng.Next(2) == 0, Preallocation = rng.Next(6) == 0 && size < (64L << 20) ? Qcow2Preallocation.Metadata : Qcow2Preallocation.Off,
                    });
                    using (var f = File.Create(disk.Reference)) f.SetLength(size);
                    disks.Add(disk);
                    detail = $"{name} size={size} cluster={cs} v2={v2} refcount_bits={bits}";
                    break;
                }
                case "write":
                {
                    if (disk!.Size < 512) { detail = "skip (empty)"; break; }
                    var length = Math.Min(disk.Size, rng.NextInt64(1, 512) * 512);
                    var offset = rng.NextInt64(0, (disk.Size - length) / 512 + 1) * 512;
                    var command = rng.Next(5) == 0 ? $"write -z {offset} {length}" : $"write -P 0x{rng.Next(1, 256):x2} {offset} {length}";
                    QemuTools.Io(disk.Image, "qcow2", command);
                    QemuTools.Io(disk.Reference, "raw", command);
                    detail = $"{Path.GetFileName(disk.Image)} {command}";
                    break;
                }
                case "grow":
                {
                    var newSize = disk!.Size + rng.NextInt64(1, Math.Min(8L << 30, disk.Size * 4 + (1 << 20))) / 512 * 512 + 512;
                    await service.ResizeAsync(disk.Image, newSize);
                    using (var f = File.OpenWrite(disk.Reference)) f.SetLength(newSize);
                    detail = $"{Path.GetFileName(disk.Image)} grow {disk.Size} -> {newSize}";
                    disk.Size = newSize;
                    break;
                }
                default:
                {
                    var newSize = rng.NextInt64(0, disk!.Size + 1) / 512 * 512;
                    try
                    {
                        await service.ResizeAsync(disk.Image, newSize, allowShrink: true);
                        using (var f = File.OpenWrite(disk.Reference)) f.SetLength(newSize);
                        detail = $"{Path.GetFileName(disk.Image)} shrink {disk.Size} -> {newSize}";
                        disk.Size = newSize;
                    }
                    catch (VzInvalidStateException ex) when (ex.ErrorId == "VzDiskShrinkWouldLoseData")
                    {
                        // The refusal must be true: qemu-img map shows data in a cluster past the new end.
                        var info = service.Get(disk.Image);
                        var firstGone = (newSize + info.ClusterSize!.Value - 1) / info.ClusterSize.Value * info.ClusterSize.Value;
                        var map = System.Text.Json.JsonDocument.Parse(QemuTools.Img("map", "--output=json", disk.Image)).RootElement;
                        Assert.Contains(map.EnumerateArray(), e => e.GetProperty("data").GetBoolean() && e.GetProperty("start").GetInt64() + e.GetProperty("length").GetInt64() > firstGone);
                        Assert.Equal(disk.Size, info.VirtualSize);
                        detail = $"{Path.GetFileName(disk.Image)} shrink to {newSize} refused (data past it)";
                    }
                    break;
                }
            }
            output.WriteLine($"{step}: {op} {detail}");

            var target = disk!;
            var check = service.Test(target.Image, false);
            Assert.True(check.IsClean, $"step {step} ({op} {detail}): {string.Join('\n', check.Messages)}");
            if (step % 10 == 9 || step == steps - 1)
                foreach (var d in disks) VerifyWithQemu(d, step);
        }
    }

    private static void VerifyWithQemu(Disk disk, int step)
    {
        QemuTools.AssertClean(disk.Image);
        Assert.True(disk.Size == QemuTools.Info(disk.Image).GetProperty("virtual-size").GetInt64(), $"step {step}: size of {disk.Image}");
        var (code, stdout, stderr) = QemuTools.Run("qemu-img", "compare", "-f", "qcow2", "-F", "raw", disk.Image, disk.Reference);
        Assert.True(code == 0, $"step {step}: {disk.Image} differs from its reference: {stdout}{stderr}");
    }
}
