using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>Memory devices over QMP: pc-dimm hotplug and the list of plugged memory.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>One plugged memory device (query-memory-devices).</summary>
    public sealed record MemoryDevice(string Id, string Type, long Size, string MemDev);

    /// <summary>Adds a RAM backend and a pc-dimm on it (<c>mem-ID</c>, <c>dimm-ID</c>); the backend is removed if the DIMM fails.</summary>
    public async Task AddDimmAsync(string id, long bytes, CancellationToken cancellationToken)
    {
        await ExecuteAsync("object-add", new JsonObject { ["qom-type"] = "memory-backend-ram", ["id"] = $"mem-{id}", ["size"] = bytes }, cancellationToken);
        try
        {
            await ExecuteAsync("device_add", new JsonObject { ["driver"] = "pc-dimm", ["id"] = $"dimm-{id}", ["memdev"] = $"mem-{id}" }, cancellationToken);
        }
        catch
        {
            try { await ExecuteAsync("object-del", new JsonObject { ["id"] = $"mem-{id}" }, CancellationToken.None); }
            catch (QmpException) { /* the backend stays until QEMU exits; query-memory-devices does not list it */ }
            throw;
        }
    }

    /// <summary>query-memory-devices: the DIMMs QEMU has plugged (what a restarted manager rebuilds its view from).</summary>
    public async Task<IReadOnlyList<MemoryDevice>> QueryMemoryDevicesAsync(CancellationToken cancellationToken)
    {
        var list = await ExecuteAsync("query-memory-devices", null, cancellationToken) as JsonArray ?? [];
        return list.OfType<JsonObject>().Select(d => new MemoryDevice(
            d["data"]?["id"]?.GetValue<string>() ?? "",
            d["type"]?.GetValue<string>() ?? "",
            d["data"]?["size"]?.GetValue<long>() ?? 0,
            d["data"]?["memdev"]?.GetValue<string>() ?? "")).ToList();
    }
}
