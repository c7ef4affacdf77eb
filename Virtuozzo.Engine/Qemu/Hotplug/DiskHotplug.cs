using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Monitor;

namespace Virtuozzo.Engine.Qemu.Hotplug;

/// <summary>
/// Disk hotplug: blockdev-add + device_add to attach, device_del + DEVICE_DELETED + blockdev-del to detach. On q35 a
/// hot-added device needs a free PCIe root port (the root bus is not hotpluggable); the command line reserves
/// <see cref="QemuCommandLine.HotplugPorts"/> of them.
/// </summary>
public static class DiskHotplug
{
    public static readonly TimeSpan UnplugTimeout = TimeSpan.FromSeconds(30);

    public static async Task<bool> AddDiskAsync(QemuMonitor monitor, string nodeName, string path, string format, string machine, CancellationToken ct)
    {
        await monitor.BlockdevAddAsync(QemuCommandLine.DiskNode(nodeName, path, format, readOnly: false), ct);
        try
        {
            if (machine == "pc")
            {
                await monitor.DeviceAddAsync(QemuCommandLine.DiskDevice(nodeName, null), ct);
                return true;
            }
            QmpException? last = null;
            foreach (var port in await FreePortsAsync(monitor, ct))
            {
                try
                {
                    await monitor.DeviceAddAsync(QemuCommandLine.DiskDevice(nodeName, port), ct);
                    return true;
                }
                catch (QmpException ex) { last = ex; }
            }
            throw last ?? QemuMonitor.DeviceAddRefused(
                $"no free PCIe hotplug port (a q35 VM has {QemuCommandLine.HotplugPorts}); remove a hot-added disk or restart the VM to attach it cold", nodeName);
        }
        catch
        {
            try { await monitor.BlockdevDelAsync(nodeName, CancellationToken.None); } catch (QmpException) { }
            throw;
        }
    }

    /// <summary>Unplugs and waits for the guest to let go, then drops the block node.</summary>
    public static async Task<bool> RemoveDiskAsync(QemuMonitor monitor, string nodeName, CancellationToken ct)
    {
        var devicePresent = true;
        try { await monitor.DeviceDelAsync(nodeName, ct); }
        catch (QmpException ex) when (ex.QmpClass == "DeviceNotFound") { devicePresent = false; }
        if (devicePresent)
            await monitor.WaitForDeviceDeletedAsync(nodeName, UnplugTimeout, ct);
        try { await monitor.BlockdevDelAsync(nodeName, ct); }
        catch (QmpException ex) when (ex.Description.Contains("not found", StringComparison.OrdinalIgnoreCase)) { }
        return true;
    }

    /// <summary>Root ports with no device behind them, from query-pci (disks, network adapters and hot-added shares use them alike).</summary>
    internal static async Task<List<string>> FreePortsAsync(QemuMonitor monitor, CancellationToken ct)
    {
        var all = Enumerable.Range(0, QemuCommandLine.HotplugPorts).Select(i => $"hp{i}").ToList();
        try
        {
            var used = (await monitor.QueryPciAsync(ct)).Where(d => d.QdevId is { } q && all.Contains(q) && d.DevicesBehind > 0).Select(d => d.QdevId!).ToHashSet();
            return all.Where(p => !used.Contains(p)).ToList();
        }
        catch (QmpException) { return all; }
    }
}
