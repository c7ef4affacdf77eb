using System.Text.Json.Nodes;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network.Adapters;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu.Hotplug;

/// <summary>
/// Network adapter hotplug on a running VM: netdev_add (QEMU creates the tap), the tap joins the bridge, device_add
/// of a virtio-net-pci on a free PCIe hotplug port (q35) or the root bus (pc). Unplug: device_del, the DEVICE_DELETED
/// event within <see cref="UnplugTimeout"/>, then netdev_del, which closes and so removes the tap.
/// </summary>
public static class NicHotplug
{
    public static readonly TimeSpan UnplugTimeout = TimeSpan.FromSeconds(30);
    private static readonly ProcessRunOptions Quick = new() { Timeout = TimeSpan.FromSeconds(15) };

    /// <summary>Plugs the adapter in and returns the hotplug port it took (null on pc); anything done before a failure is undone (no tap, no device left).</summary>
    public static async Task<string?> AddAsync(QemuMonitor monitor, ProcessRunner runner, Guid id, VeNetworkAdapter nic, string bridge, string machine, CancellationToken ct)
    {
        var netdev = AdapterNames.Netdev(nic.Slot);
        var device = AdapterNames.Device(nic.Slot);
        var tap = AdapterNames.Tap(id, nic.Slot);
        await monitor.NetdevAddTapAsync(netdev, tap, ct);
        var plugged = false;
        try
        {
            await runner.RunAsync("ip", ["link", "set", "dev", tap, "master", bridge, "up"], Quick, ct);
            var properties = new JsonObject { ["driver"] = "virtio-net-pci", ["id"] = device, ["netdev"] = netdev, ["mac"] = nic.MacAddress };
            if (machine == "pc") await monitor.DeviceAddAsync(properties, ct);
            else
            {
                QmpException? last = null;
                foreach (var port in await DiskHotplug.FreePortsAsync(monitor, ct))
                {
                    try
                    {
                        properties["bus"] = port;
                        await monitor.DeviceAddAsync(properties.DeepClone().AsObject(), ct);
                        last = null;
                        break;
                    }
                    catch (QmpException ex) { last = ex; }
                }
                if (last is not null || !properties.ContainsKey("bus"))
                    throw new VzInsufficientResourcesException("VzNoFreePciSlot",
                        $"The VM has no free PCIe hotplug port for another adapter (a q35 VM has {QemuCommandLine.HotplugPorts}, shared with hot-added disks).", device)
                    { RecommendedAction = "Remove a hot-added disk or adapter, or stop the VM: an adapter added while it is stopped gets a port of its own at the next start." };
            }
            plugged = true;
            if (nic.Connected == false) await monitor.SetLinkAsync(device, false, ct);
            return properties["bus"]?.GetValue<string>();
        }
        catch
        {
            if (plugged) await RemoveDeviceAsync(monitor, device, CancellationToken.None);
            try { await monitor.NetdevDelAsync(netdev, CancellationToken.None); } catch (QmpException) { }
            throw;
        }
    }

    /// <summary>Unplugs the adapter and drops its backend (the tap goes with it).</summary>
    public static async Task RemoveAsync(QemuMonitor monitor, int slot, CancellationToken ct)
    {
        await RemoveDeviceAsync(monitor, AdapterNames.Device(slot), ct);
        try { await monitor.NetdevDelAsync(AdapterNames.Netdev(slot), ct); }
        catch (QmpException ex) when (ex.Description.Contains("not found", StringComparison.OrdinalIgnoreCase)) { }
    }

    private static async Task RemoveDeviceAsync(QemuMonitor monitor, string device, CancellationToken ct)
    {
        try { await monitor.DeviceDelAsync(device, ct); }
        catch (QmpException ex) when (ex.QmpClass == "DeviceNotFound") { return; }
        await monitor.WaitForDeviceDeletedAsync(device, UnplugTimeout, ct);
    }
}
