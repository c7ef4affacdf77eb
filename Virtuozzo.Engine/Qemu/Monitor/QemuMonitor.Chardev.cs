using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>Character devices: query-chardev.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>
    /// Whether the guest side of character device <paramref name="label"/> is open: for a virtio-serial port, whether
    /// a program in the guest (the guest agent) holds the port open. Null when QEMU has no such device.
    /// </summary>
    public async Task<bool?> IsChardevFrontendOpenAsync(string label, CancellationToken cancellationToken)
    {
        var devices = await ExecuteAsync("query-chardev", null, cancellationToken) as JsonArray;
        var device = devices?.OfType<JsonObject>().FirstOrDefault(d => d["label"] is JsonValue l && l.TryGetValue<string>(out var s) && s == label);
        return device?["frontend-open"] is JsonValue open && open.TryGetValue<bool>(out var b) ? b : null;
    }
}
