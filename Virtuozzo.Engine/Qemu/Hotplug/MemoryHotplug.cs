using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu.Hotplug;

/// <summary>
/// Memory hotplug, as Virtuozzo does it: a VM with hotplug on grows live by DIMMs (a RAM backend plus a pc-dimm in a
/// free slot); anything else waits for the next start.
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

    /// <summary>The DIMM size that grows the running VM from its current size to <paramref name="newSize"/>, or null when that cannot be done live.</summary>
    public static long? LiveGrowth(VeConfig current, long newSize)
    {
        var vm = current.Vm!;
        var delta = newSize - current.Memory.Size;
        return vm.MemHotplug && delta > 0 && delta % DimmGranularity == 0 && newSize <= vm.MaxMemorySize ? delta : null;
    }

    /// <summary>Why a size change waits for the next start.</summary>
    public static string DeferredReason(VmSettings vm) => vm.MemHotplug
        ? $"Memory grows live in steps of {DimmGranularity / (1024 * 1024)} MB up to {vm.MaxMemorySize / (1024 * 1024)} MB and shrinks only at the next start."
        : "The VM has no memory hotplug (New-VzVm -MemHotplug): the new size applies at the next start.";

    /// <summary>Plugs a DIMM of <paramref name="bytes"/>; the ids match the ones the command line gives on a restore.</summary>
    public static async Task AddDimmAsync(QemuMonitor monitor, string dimmId, long bytes, CancellationToken ct)
    {
        await monitor.ObjectAddMemoryBackendRamAsync(QemuCommandLine.DimmBackendId(dimmId), bytes, ct);
        await monitor.DeviceAddAsync(QemuCommandLine.DimmDevice(dimmId), ct);
    }
}
