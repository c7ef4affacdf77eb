using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu.Hotplug;

/// <summary>
/// Memory hotplug: a DIMM is a RAM backend plus a pc-dimm in a free slot. When a running VM gets one is decided by
/// <see cref="MemoryResizePlan"/> (balloon first, DIMMs only for the rest).
/// </summary>
public static class MemoryHotplug
{
    /// <summary>Linux onlines hotplugged memory in 128 MiB blocks; DIMMs come in multiples of it.</summary>
    public const long DimmGranularity = 128L * 1024 * 1024;

    /// <summary>How far hotplug may grow a VM of <paramref name="size"/>: up to 4x its RAM, at most the host's RAM, rounded down to DIMM granularity (never below its RAM).</summary>
    public static long MaxMemoryFor(long size, long hostTotal)
    {
        var max = Math.Max(size, Math.Min(size * 4, hostTotal));
        var rounded = max / DimmGranularity * DimmGranularity;
        return rounded < size ? size : rounded;
    }

    /// <summary>Plugs a DIMM of <paramref name="bytes"/>; the ids match the ones the command line gives on a restore.</summary>
    public static async Task AddDimmAsync(QemuMonitor monitor, string dimmId, long bytes, CancellationToken ct)
    {
        await monitor.ObjectAddMemoryBackendRamAsync(QemuCommandLine.DimmBackendId(dimmId), bytes, ct);
        await monitor.DeviceAddAsync(QemuCommandLine.DimmDevice(dimmId), ct);
    }
}
