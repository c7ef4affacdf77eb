using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>What a virtio-fs hot add needs: a unix socket chardev to the daemon, and whether guest RAM is shared.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>Connects a new character device <paramref name="id"/> to the unix socket <paramref name="path"/> (client side).</summary>
    public Task ChardevAddUnixSocketAsync(string id, string path, CancellationToken cancellationToken) =>
        ExecuteAsync("chardev-add", new JsonObject
        {
            ["id"] = id,
            ["backend"] = new JsonObject
            {
                ["type"] = "socket",
                ["data"] = new JsonObject
                {
                    ["addr"] = new JsonObject { ["type"] = "unix", ["data"] = new JsonObject { ["path"] = path } },
                    ["server"] = false,
                },
            },
        }, cancellationToken);

    public Task ChardevRemoveAsync(string id, CancellationToken cancellationToken) =>
        ExecuteAsync("chardev-remove", new JsonObject { ["id"] = id }, cancellationToken);

    /// <summary>
    /// Whether the guest's RAM is a shared mapping (a memory backend with share=on, such as the memfd a VM started
    /// with a virtio-fs share has): a vhost-user daemon can only serve a guest whose memory it can map.
    /// </summary>
    public async Task<bool> IsRamSharedAsync(CancellationToken cancellationToken)
    {
        var memdevs = await ExecuteAsync("query-memdev", null, cancellationToken) as JsonArray ?? [];
        return memdevs.Count > 0 && memdevs.All(m => m?["share"] is JsonValue v && v.TryGetValue<bool>(out var shared) && shared);
    }
}
