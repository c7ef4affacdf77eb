using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>Memory devices over QMP: the list of plugged memory (DIMMs are added by Hotplug/MemoryHotplug).</summary>
public sealed partial class QemuMonitor
{
    /// <summary>One plugged memory device (query-memory-devices).</summary>
    public sealed record MemoryDevice(string Id, string Type, long Size, string MemDev);

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
