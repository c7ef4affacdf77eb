using Virtuozzo.Engine.Containers;

namespace Virtuozzo.Engine.Tests.CgroupV2;

/// <summary>
/// The measurement behind bench/CgroupV2.Bench.ps1 (not a test: the category is not in the test run). One container
/// of 256 MiB with a 200 MiB working set, first with guarantee 50 %, then the same container restarted with 0 %,
/// each time under the same hog outside `vz`; records what stayed resident (memory.current) and what went to swap.
/// </summary>
[Trait("Category", "CgroupV2Bench")]
public sealed class CgroupV2MemoryBench : CgroupV2Ves
{
    private const long MiB = 1 << 20;

    [CgroupV2HostFact]
    public async Task ResidentWorkingSetUnderPressureWithAndWithoutGuarantee()
    {
        var ct = await FillAsync("v2bench", 50);
        GuestMeasurements.Record("memTotalMiB", long.Parse(File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024);
        Measure(ct, "guarantee50");

        // The same container again from the same start: its working set is dropped (a tmpfs page stays charged to the
        // group that first touched it, even after a restart), it restarts with guarantee 0 and fills the set anew.
        Assert.Equal(0, (await ExecAsync(ct, "rm -f /var/working-set")).ExitCode);
        await StopAsync(ct);
        await Containers.SetAsync(ct.Id, new ContainerChanges { MemGuarantee = 0 }, CancellationToken.None);
        ct = await StartAsync(ct);
        var r = await ExecAsync(ct, "dd if=/dev/zero of=/var/working-set bs=1M count=200 2>&1");
        Assert.True(r.ExitCode == 0, r.StdOut);
        Measure(ct, "guarantee0");
    }

    private void Measure(ContainerInfo ct, string label)
    {
        var g = Group(ct);
        GuestMeasurements.Record($"{label}.lowMiB", ReadLong(g, "memory.low") / MiB);
        GuestMeasurements.Record($"{label}.parentLowMiB", ReadLong(ParentDir, "memory.low") / MiB);
        GuestMeasurements.Record($"{label}.beforeMiB", ReadLong(g, "memory.current") / MiB);
        var swappedBefore = MemoryPressure.SwappedOutPages();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using (var hog = new MemoryPressure(Mount))
        {
            GuestMeasurements.Record($"{label}.hogMiB", hog.Apply(overshootMiB: 768));
            GuestMeasurements.Record($"{label}.residentMiB", ReadLong(g, "memory.current") / MiB);
            GuestMeasurements.Record($"{label}.swapMiB", ReadLong(g, "memory.swap.current") / MiB);
        }
        GuestMeasurements.Record($"{label}.hostSwapOutMiB", (MemoryPressure.SwappedOutPages() - swappedBefore) * 4096 / MiB);
        GuestMeasurements.Record($"{label}.seconds", Math.Round(watch.Elapsed.TotalSeconds, 1));
    }
}
