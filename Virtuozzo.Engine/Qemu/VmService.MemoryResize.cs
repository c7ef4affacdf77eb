using System.Diagnostics;
using Virtuozzo.Engine.Errors;
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
                var blocksBefore = await CountMemoryBlocksAsync(rt, name, ct);
                await MemoryHotplug.AddDimmAsync(monitor, dimm.Id, dimm.Size, ct);
                journal.Record("ResizeDimmAdded", name, $"DIMM {dimm.Id} of {dimm.Size >> 20} MiB added");
                if (blocksBefore is { } before) await OnlineHotpluggedAsync(rt, name, journal, before, dimm.Size, ct);
            }
            await monitor.SetBalloonAsync(plan.BalloonTarget, ct);
            journal.Record("ResizeBalloon", name, $"balloon target {plan.BalloonTarget >> 20} MiB");
            return dimm;
        }
        finally { File.Delete(pause); }
    }

    /// <summary>How long the agent fallback waits for a DIMM's memory blocks to show up in the guest and go online.</summary>
    public static readonly TimeSpan OnlineTimeout = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan AgentStep = TimeSpan.FromSeconds(3);

    /// <summary>The guest's memory blocks before a DIMM goes in; null when the agent does not answer (the guest must online by itself then).</summary>
    private static async Task<int?> CountMemoryBlocksAsync(VmRuntimePaths rt, string name, CancellationToken ct)
    {
        try
        {
            await using var agent = await OpenAgentAsync(rt, name, AgentStep, ct);
            return (await agent.GuestGetMemoryBlocksAsync(AgentStep, ct)).Count;
        }
        catch (VzException) { return null; }
    }

    /// <summary>
    /// Hotplugged memory onlined in the guest. A guest booted with memhp_default_state=online(_movable), or with
    /// a udev rule that onlines memory, does it itself and this only watches; elsewhere (most non-RHEL guests:
    /// burmilla/os#199) the new blocks stay offline and MemTotal does not move, so the agent onlines them
    /// (guest-set-memory-blocks). The blocks reach the guest through an ACPI event, asynchronously: they are
    /// looked at until as many new blocks as the DIMM spans are there and online, or <see cref="OnlineTimeout"/>.
    /// </summary>
    private static async Task OnlineHotpluggedAsync(VmRuntimePaths rt, string name, HostServiceJournal journal, int blocksBefore, long dimmBytes, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var onlined = 0;
        try
        {
            await using var agent = await OpenAgentAsync(rt, name, AgentStep, ct);
            // Linux x86 memory blocks are 128 MiB below 64 GiB of RAM (the DIMM granularity); a DIMM spans at least one.
            var expected = blocksBefore + Math.Max(1, (int)(dimmBytes / MemoryHotplug.DimmGranularity));
            while (true)
            {
                var blocks = await agent.GuestGetMemoryBlocksAsync(AgentStep, ct);
                var offline = blocks.Where(b => !b.Online).Select(b => b.PhysIndex).ToList();
                if (offline.Count > 0) onlined += await agent.GuestOnlineMemoryBlocksAsync(offline, AgentStep, ct);
                if (blocks.Count >= expected && offline.Count == 0) break;
                if (watch.Elapsed >= OnlineTimeout)
                {
                    journal.Record("ResizeOnlineIncomplete", name, $"after {OnlineTimeout.TotalSeconds:0} s the guest shows {blocks.Count} memory blocks ({blocks.Count - blocksBefore} new, {expected - blocksBefore} expected), {offline.Count} offline", Microsoft.Extensions.Logging.LogLevel.Warning);
                    return;
                }
                await Task.Delay(250, ct);
            }
        }
        catch (VzException ex)
        {
            journal.Record("ResizeOnlineIncomplete", name, $"the guest agent could not online the new memory: {ex.Message}", Microsoft.Extensions.Logging.LogLevel.Warning);
            return;
        }
        if (onlined > 0) journal.Record("ResizeOnlined", name, $"{onlined} memory blocks onlined by the guest agent (the guest kernel left them offline)");
    }
}
