using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>Guest devices: device_add, device_del (with its DEVICE_DELETED event), query-pci.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>Adds a device; <paramref name="properties"/> are the -device properties, "driver" and "id" included.</summary>
    public Task DeviceAddAsync(JsonObject properties, CancellationToken cancellationToken) => ExecuteAsync("device_add", properties, cancellationToken);

    /// <summary>The error device_add gives, for a caller that knows the answer before asking (no free port).</summary>
    public static QmpException DeviceAddRefused(string description, object? target) => new("device_add", "GenericError", description, target);

    /// <summary>Asks the guest to release a device; it is gone once <see cref="WaitForDeviceDeletedAsync"/> returns.</summary>
    public Task DeviceDelAsync(string id, CancellationToken cancellationToken) =>
        ExecuteAsync("device_del", new JsonObject { ["id"] = id }, cancellationToken);

    /// <summary>
    /// Waits for the DEVICE_DELETED event that names <paramref name="id"/>, also one that beat the device_del reply.
    /// The first DEVICE_DELETED of a virtio device is for its backend (<c>/machine/peripheral/ID/virtio-backend</c>,
    /// no <c>device</c> field); only the one naming the id means the guest let go.
    /// </summary>
    public Task WaitForDeviceDeletedAsync(string id, TimeSpan timeout, CancellationToken cancellationToken) =>
        qmp.WaitForEventAsync(e => IsDeviceDeleted(e, id), timeout, cancellationToken);

    internal static bool IsDeviceDeleted(JsonObject e, string id) =>
        e["event"]?.GetValue<string>() == "DEVICE_DELETED" && e["data"]?["device"]?.GetValue<string>() == id;

    /// <summary>Every PCI device on every bus (devices behind bridges are counted on their bridge, not listed).</summary>
    public async Task<IReadOnlyList<PciDevice>> QueryPciAsync(CancellationToken cancellationToken)
    {
        var buses = await ExecuteAsync("query-pci", null, cancellationToken) as JsonArray ?? [];
        return buses.SelectMany(bus => bus?["devices"] as JsonArray ?? [])
            .Select(dev => new PciDevice(dev?["qdev_id"]?.GetValue<string>() is { Length: > 0 } q ? q : null,
                (dev?["pci_bridge"]?["devices"] as JsonArray)?.Count ?? 0))
            .ToList();
    }
}
