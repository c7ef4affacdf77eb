using System.Diagnostics;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Service;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Resizing a running VM: balloon first, DIMMs only for the rest (see <see cref="MemoryResizePlan"/>).</summary>
public sealed partial class VmService
{
    /// <summary>How long the balloon may take to deflate before the DIMM goes in anyway (the order is kept, not the wait).</summary>
    public static readonly TimeSpan BalloonFirstTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs <paramref name="plan"/> under the VM's lock; the host service's memory manager keeps off the balloon
    /// meanwhile (its pause marker). Each step goes to the service's event journal, so the order can be checked.
    /// </summary>
    private async Task<VmDimm?> ResizeRunningAsync(VmRuntimePaths rt, string name, MemoryResizePlan plan, CancellationToken ct)
    {
        var journal = new HostServiceJournal(HostServicePaths.For(paths), logger);
        Directory.CreateDirectory(journal.Paths.Directory);
        var pause = HostServicePaths.BalloonPauseMarker(rt.RunDirectory);
        File.WriteAllText(pause, "resize");
        try
        {
            await using var monitor = await OpenMonitorAsync(rt, name, ct);
            if (plan.BalloonFirst is { } first)
            {
                await monitor.SetBalloonAsync(first, ct);
                var watch = Stopwatch.StartNew();
                long actual;
                while ((actual = await monitor.QueryBalloonAsync(ct)) < first - MemoryResizePlan.Slack && watch.Elapsed < BalloonFirstTimeout)
                    await Task.Delay(200, ct);
                journal.Record("ResizeBalloonFirst", name, $"balloon deflated to {actual >> 20} MiB of {first >> 20} MiB plugged before any DIMM");
            }
            VmDimm? dimm = null;
            if (plan.DimmBytes > 0)
            {
                dimm = new VmDimm { Id = Guid.NewGuid().ToString("N")[..8], Size = plan.DimmBytes };
                await MemoryHotplug.AddDimmAsync(monitor, dimm.Id, dimm.Size, ct);
                journal.Record("ResizeDimmAdded", name, $"DIMM {dimm.Id} of {dimm.Size >> 20} MiB added");
            }
            await monitor.SetBalloonAsync(plan.BalloonTarget, ct);
            journal.Record("ResizeBalloon", name, $"balloon target {plan.BalloonTarget >> 20} MiB");
            return dimm;
        }
        finally { File.Delete(pause); }
    }
}
