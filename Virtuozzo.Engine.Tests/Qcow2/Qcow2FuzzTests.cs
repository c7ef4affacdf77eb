using System.Buffers.Binary;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Errors;
using Xunit;
using Xunit.Abstractions;

namespace Virtuozzo.Engine.Tests.Qcow2;

/// <summary>
/// Thousands of mutated and truncated images (headers, L1/L2 and refcount tables): every describe, check and resize
/// ends in a typed error or an answer, never another exception, a hang or a large allocation. When the native
/// check calls a mutant clean, qemu-img check (sampled) must not find corruptions in it.
/// </summary>
public sealed class Qcow2FuzzTests(ITestOutputHelper output)
{
    private const long MaxAllocationPerOperation = 64L << 20;
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private static readonly ulong[] Interesting =
    [
        0, 1, 7, 8, 9, 21, 22, 63, 64, 511, 512, 4096, 65535, 65536, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
        0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF, 0x00FF_FFFF_FFFF_FE00, 0x4000_0000_0000_0000,
    ];

    [Theory]
    [InlineData(1, "compat=1.1,cluster_size=512,refcount_bits=16", 700)]
    [InlineData(2, "compat=0.10,cluster_size=4096", 500)]
    [InlineData(3, "compat=1.1,cluster_size=4096,refcount_bits=1,lazy_refcounts=on", 500)]
    [InlineData(4, "compat=1.1,cluster_size=65536,extended_l2=on,compression_type=zstd", 400)]
    [InlineData(5, "compat=1.1,cluster_size=1024,refcount_bits=64,snapshot", 500)]
    [InlineData(6, "compat=1.1,cluster_size=512,refcount_bits=2,backing", 500)]
    public void MutantsGiveTypedErrorsOrAnswers(int seed, string spec, int mutants)
    {
        using var dir = new TempDir();
        var service = QemuTools.NewService(dir.Path);
        var seedImage = MakeSeed(dir, spec);
        var original = File.ReadAllBytes(seedImage);
        var rng = new Random(seed);
        var mutant = dir.File("mutant.qcow2");
        int typed = 0, answered = 0, crossChecked = 0;
        for (var i = 0; i < mutants; i++)
        {
            var (bytes, what) = Mutate(original, rng);
            File.WriteAllBytes(mutant, bytes);
            var label = $"seed {seed} mutant {i} ({what})";

            var described = Guarded(label + " describe", () => service.Get(mutant));
            var checkedResult = Guarded(label + " check", () => service.Test(mutant, false));
            if (described is null || checkedResult is null) typed++; else answered++;

            if (checkedResult is { IsClean: true } && i % 8 == 0)
            {
                var (code, _, stderr) = QemuTools.Run("qemu-img", "check", mutant);
                Assert.True(code != 2, $"{label}: native check is clean, qemu-img check finds corruptions: {stderr}");
                crossChecked++;
            }
            if (i % 4 == 0)
            {
                // Resizing a mutant must either refuse it or leave an image the native check still calls clean.
                var size = described?.VirtualSize ?? 1 << 20;
                var grown = Guarded(label + " grow", () => service.ResizeAsync(mutant, (size + (64L << 20)) / 512 * 512).GetAwaiter().GetResult());
                if (grown is not null)
                {
                    var after = Guarded(label + " check after grow", () => service.Test(mutant, false));
                    Assert.True(after is null || after.Corruptions == 0, $"{label}: grow produced corruptions: {string.Join('\n', after?.Messages ?? [])}");
                }
            }
        }
        output.WriteLine($"{mutants} mutants: {typed} typed errors, {answered} answers, {crossChecked} cross-checked with qemu-img");
        Assert.True(typed > 0 && answered > 0, "the mutations should produce both refusals and answers");
    }

    private static T? Guarded<T>(string label, Func<T> operation) where T : class
    {
        T? result = null;
        Exception? error = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try { result = operation(); }
            catch (Exception ex) { error = ex; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, 16 << 20);
        thread.Start();
        Assert.True(thread.Join(HangGuard), $"{label}: did not finish (endless loop?)");
        Assert.True(allocated < MaxAllocationPerOperation, $"{label}: allocated {allocated} bytes");
        if (error is null) return result;
        if (error is AggregateException { InnerException: { } inner }) error = inner;
        Assert.True(error is VzException, $"{label}: untyped {error.GetType().Name}: {error}");
        return null;
    }

    private static (byte[] Bytes, string What) Mutate(byte[] original, Random rng)
    {
        var bytes = (byte[])original.Clone();
        switch (rng.Next(6))
        {
            case 0:
            {
                var n = rng.Next(1, 9);
                for (var k = 0; k < n; k++) bytes[rng.Next(Math.Min(bytes.Length, 4096))] ^= (byte)(1 << rng.Next(8));
                return (bytes, $"{n} bit flips in the first 4 KiB");
            }
            case 1:
            {
                // A header field (4- or 8-byte aligned) set to an interesting value.
                var offset = rng.Next(0, 112 / 4) * 4;
                var value = Interesting[rng.Next(Interesting.Length)];
                if (rng.Next(2) == 0 && offset % 8 == 0) BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(offset), value);
                else BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(offset), (uint)value);
                return (bytes, $"header offset {offset} = 0x{value:x}");
            }
            case 2:
            {
                // A table entry anywhere in the file (L1, L2, refcount table or block, snapshot table).
                var offset = rng.Next(0, bytes.Length / 8) * 8;
                var value = Interesting[rng.Next(Interesting.Length)];
                if (rng.Next(3) == 0) value = (ulong)rng.NextInt64(0, bytes.Length * 2L) & ~511UL | (value & 0xC000_0000_0000_0001);
                BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(offset), value);
                return (bytes, $"entry at {offset} = 0x{value:x}");
            }
            case 3:
            {
                var length = rng.Next(0, bytes.Length);
                return (bytes[..length], $"truncated to {length}");
            }
            case 4:
            {
                var offset = rng.Next(0, bytes.Length);
                var n = Math.Min(bytes.Length - offset, rng.Next(1, 256));
                rng.NextBytes(bytes.AsSpan(offset, n));
                return (bytes, $"{n} random bytes at {offset}");
            }
            default:
            {
                var n = rng.Next(2, 5);
                for (var k = 0; k < n; k++) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
                return (bytes, $"{n} random bytes anywhere");
            }
        }
    }

    private static string MakeSeed(TempDir dir, string spec)
    {
        var image = dir.File("seed.qcow2");
        var options = spec.Replace(",snapshot", "").Replace(",backing", "");
        var args = new List<string> { "create", "-q", "-f", "qcow2", "-o", options };
        if (spec.Contains(",backing"))
        {
            QemuTools.Img("create", "-q", "-f", "qcow2", dir.File("base.qcow2"), "4M");
            args.AddRange(["-b", dir.File("base.qcow2"), "-F", "qcow2"]);
        }
        args.AddRange([image, "4M"]);
        QemuTools.Img([.. args]);
        var cs = options.Contains("cluster_size=65536") ? 65536 : 4096;
        QemuTools.Io(image, "qcow2", "write -P 1 0 8k", "write -P 2 1M 4k", "write -z 2M 64k", $"write -c -P 3 3M {cs}");
        if (spec.Contains(",snapshot"))
        {
            QemuTools.Img("snapshot", "-c", "one", image);
            QemuTools.Io(image, "qcow2", "write -P 4 0 4k");
        }
        return image;
    }
}
