using Virtuozzo.Engine.Qemu.Monitor;

namespace Virtuozzo.Engine.Qemu;

/// <summary>The memory devices QEMU has plugged, as QEMU itself reports them.</summary>
public sealed partial class VmService
{
    /// <summary>
    /// query-memory-devices of a running VM (VzVmNotRunning otherwise): what QEMU holds, to compare with the DIMMs
    /// the config records. A resize that leaves a device behind (or records one QEMU lacks) shows up here and nowhere
    /// else, since the guest sees the same RAM either way until the next restore.
    /// </summary>
    public async Task<IReadOnlyList<QemuMonitor.MemoryDevice>> QueryMemoryDevicesAsync(Guid id, CancellationToken cancellationToken)
    {
        var (rt, name) = Running(id);
        await using var monitor = await OpenMonitorAsync(rt, name, cancellationToken);
        return await monitor.QueryMemoryDevicesAsync(cancellationToken);
    }
}
