using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>The guest's network: guest-network-get-interfaces.</summary>
public sealed partial class QemuAgent
{
    public async Task<IReadOnlyList<GuestNetworkInterface>> GuestNetworkGetInterfacesAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var list = await ExecuteAsync("guest-network-get-interfaces", null, timeout, cancellationToken) as JsonArray ?? [];
        return list.OfType<JsonObject>().Select(i => new GuestNetworkInterface
        {
            VmName = name,
            Name = Str(i["name"]) ?? "",
            MacAddress = Str(i["hardware-address"]),
            IPAddresses = (i["ip-addresses"] as JsonArray ?? []).OfType<JsonObject>()
                .Select(a => $"{Str(a["ip-address"])}/{a["prefix"]}").ToList(),
        }).ToList();
    }
}
