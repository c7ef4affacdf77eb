using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>Network backends and links: netdev_add, netdev_del, set_link, and qom-list to see which devices exist.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>Adds a tap backend: QEMU opens (and so creates) the tap device <paramref name="ifname"/>.</summary>
    public Task NetdevAddTapAsync(string id, string ifname, CancellationToken cancellationToken) =>
        ExecuteAsync("netdev_add", new JsonObject { ["type"] = "tap", ["id"] = id, ["ifname"] = ifname, ["script"] = "no", ["downscript"] = "no" }, cancellationToken);

    /// <summary>Drops a backend; QEMU closes the tap, and a tap nobody made persistent disappears with it.</summary>
    public Task NetdevDelAsync(string id, CancellationToken cancellationToken) =>
        ExecuteAsync("netdev_del", new JsonObject { ["id"] = id }, cancellationToken);

    /// <summary>Sets a NIC's link up or down as the guest sees it (the cable plugged or pulled).</summary>
    public Task SetLinkAsync(string deviceId, bool up, CancellationToken cancellationToken) =>
        ExecuteAsync("set_link", new JsonObject { ["name"] = deviceId, ["up"] = up }, cancellationToken);

    /// <summary>The names under a QOM path, for example the user-created devices under <c>/machine/peripheral</c>.</summary>
    public async Task<IReadOnlyList<string>> QomListAsync(string path, CancellationToken cancellationToken)
    {
        var items = await ExecuteAsync("qom-list", new JsonObject { ["path"] = path }, cancellationToken) as JsonArray ?? [];
        return items.Select(i => i?["name"]?.GetValue<string>()).OfType<string>().ToList();
    }
}
