using System.Text.Json.Nodes;
using Virtuozzo.Engine.Qemu.Monitor;

namespace Virtuozzo.Engine.Qemu.Hotplug;

/// <summary>
/// Disk hotplug over QMP: blockdev-add + device_add to attach, device_del + DEVICE_DELETED + blockdev-del to
/// detach. On q35 a hot-added device needs a free PCIe root port (the root bus is not hotpluggable); the command
/// line reserves <see cref="QemuCommandLine.HotplugPorts"/> of them.
/// </summary>
public static class VmHotplug
{
    public static readonly TimeSpan UnplugTimeout = TimeSpan.FromSeconds(30);

    public static async Task<bool> AddDiskAsync(QmpClient qmp, string nodeName, string path, string format, string machine, CancellationToken ct)
    {
        var t = VmConnections.MonitorTimeout;
        await qmp.ExecuteAsync("blockdev-add", QemuCommandLine.DiskNode(nodeName, path, format, readOnly: false), t, ct);
        try
        {
            if (machine == "pc")
            {
                await qmp.ExecuteAsync("device_add", Device(nodeName, null), t, ct);
                return true;
            }
            QmpException? last = null;
            foreach (var port in await FreePortsAsync(qmp, ct))
            {
                try
                {
                    await qmp.ExecuteAsync("device_add", Device(nodeName, port), t, ct);
                    return true;
                }
                catch (QmpException ex) { last = ex; }
            }
            throw last ?? new QmpException("device_add", "GenericError",
                $"no free PCIe hotplug port (a q35 VM has {QemuCommandLine.HotplugPorts}); remove a hot-added disk or restart the VM to attach it cold", nodeName);
        }
        catch
        {
            try { await qmp.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = nodeName }, t, CancellationToken.None); } catch (QmpException) { }
            throw;
        }
    }

    /// <summary>
    /// Unplugs and waits for the guest to let go. The first DEVICE_DELETED is for the virtio backend
    /// (<c>/machine/peripheral/ID/virtio-backend</c>, no <c>device</c> field); the one that counts names the id.
    /// </summary>
    public static async Task<bool> RemoveDiskAsync(QmpClient qmp, string nodeName, CancellationToken ct)
    {
        var t = VmConnections.MonitorTimeout;
        var devicePresent = true;
        try { await qmp.ExecuteAsync("device_del", new JsonObject { ["id"] = nodeName }, t, ct); }
        catch (QmpException ex) when (ex.QmpClass == "DeviceNotFound") { devicePresent = false; }
        if (devicePresent)
            await qmp.WaitForEventAsync(e => IsDeviceDeleted(e, nodeName), UnplugTimeout, ct);
        try { await qmp.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = nodeName }, t, ct); }
        catch (QmpException ex) when (ex.Description.Contains("not found", StringComparison.OrdinalIgnoreCase)) { }
        return true;
    }

    internal static bool IsDeviceDeleted(JsonObject e, string id) =>
        e["event"]?.GetValue<string>() == "DEVICE_DELETED" && e["data"]?["device"]?.GetValue<string>() == id;

    private static JsonObject Device(string id, string? bus)
    {
        var d = new JsonObject { ["driver"] = "virtio-blk-pci", ["drive"] = id, ["id"] = id };
        if (bus is not null) d["bus"] = bus;
        return d;
    }

    /// <summary>Root ports with no device behind them, from query-pci.</summary>
    private static async Task<List<string>> FreePortsAsync(QmpClient qmp, CancellationToken ct)
    {
        var all = Enumerable.Range(0, QemuCommandLine.HotplugPorts).Select(i => $"hp{i}").ToList();
        try
        {
            var used = new HashSet<string>();
            var buses = await qmp.ExecuteAsync("query-pci", null, VmConnections.MonitorTimeout, ct) as JsonArray ?? [];
            foreach (var bus in buses)
                foreach (var dev in bus?["devices"] as JsonArray ?? [])
                    if (dev?["qdev_id"]?.GetValue<string>() is { } qid && all.Contains(qid) && dev["pci_bridge"]?["devices"] is JsonArray { Count: > 0 })
                        used.Add(qid);
            return all.Where(p => !used.Contains(p)).ToList();
        }
        catch (QmpException) { return all; }
    }
}
