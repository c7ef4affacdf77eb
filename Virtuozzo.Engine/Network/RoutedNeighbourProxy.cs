using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Network;

/// <summary>
/// Makes a host-routed VE reachable from other machines on the host's own subnet (Virtuozzo's PSBM-44285): for
/// each VE address inside a subnet the host has on some interface (the uplink), the host answers ARP for it there
/// (a proxy neighbour entry) and forwards between that interface and the VE's veth. The entries made are recorded
/// in the run folder so that removing them never touches one the host's admin made.
/// </summary>
public sealed class RoutedNeighbourProxy(ProcessRunner runner, string stateDirectory, ILogger logger)
{
    private static readonly ProcessRunOptions Quick = new() { Timeout = TimeSpan.FromSeconds(15) };

    private string StateFile(Guid id) => Path.Combine(stateDirectory, id.ToString("N") + ".proxy");

    public async Task AddAsync(Guid id, string vethHost, IEnumerable<string> addresses, CancellationToken ct)
    {
        await RemoveAsync(id, ct);
        var interfaces = await HostSubnetsAsync(vethHost, ct);
        var made = new List<string>();
        foreach (var text in addresses)
        {
            var addr = IPAddress.Parse(text.Split('/')[0]);
            if (addr.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) continue;
            var uplink = interfaces.FirstOrDefault(i => Contains(i.Network, i.Prefix, addr)).Name;
            if (uplink is null) continue; // an address of no local subnet is reached through the host's routing alone
            await runner.RunAsync("ip", ["neigh", "replace", "proxy", addr.ToString(), "dev", uplink], Quick, ct);
            made.Add($"{addr} {uplink}");
            // Forwarding on the two interfaces this path uses, not host-wide.
            File.WriteAllText($"/proc/sys/net/ipv4/conf/{uplink}/forwarding", "1");
            File.WriteAllText($"/proc/sys/net/ipv4/conf/{vethHost}/forwarding", "1");
            // The kernel delays proxied ARP answers by up to 0.8 s by default; a VE should answer as fast as a host.
            File.WriteAllText($"/proc/sys/net/ipv4/neigh/{uplink}/proxy_delay", "0");
            logger.LogDebug("Proxy ARP for {Address} on {Uplink}.", addr, uplink);
        }
        if (made.Count == 0) return;
        Directory.CreateDirectory(stateDirectory);
        File.WriteAllLines(StateFile(id), made);
    }

    public async Task RemoveAsync(Guid id, CancellationToken ct)
    {
        var file = StateFile(id);
        if (!File.Exists(file)) return;
        foreach (var line in File.ReadAllLines(file))
        {
            var parts = line.Split(' ');
            if (parts.Length != 2) continue;
            await runner.RunAsync("ip", ["neigh", "del", "proxy", parts[0], "dev", parts[1]], Quick with { ThrowOnFailure = false }, ct);
        }
        File.Delete(file);
    }

    private async Task<List<(string Name, IPAddress Network, int Prefix)>> HostSubnetsAsync(string exclude, CancellationToken ct)
    {
        var r = await runner.RunAsync("ip", ["-j", "-4", "addr", "show"], Quick, ct);
        var list = new List<(string, IPAddress, int)>();
        using var doc = JsonDocument.Parse(r.StandardOutput);
        foreach (var link in doc.RootElement.EnumerateArray())
        {
            var name = link.GetProperty("ifname").GetString()!;
            if (name == exclude || name == "lo" || !link.TryGetProperty("addr_info", out var infos)) continue;
            foreach (var info in infos.EnumerateArray())
                if (info.TryGetProperty("local", out var local) && info.TryGetProperty("prefixlen", out var prefix) && prefix.GetInt32() < 32)
                    list.Add((name, IPAddress.Parse(local.GetString()!), prefix.GetInt32()));
        }
        return list;
    }

    private static bool Contains(IPAddress network, int prefix, IPAddress address)
    {
        var a = network.GetAddressBytes();
        var b = address.GetAddressBytes();
        if (a.Length != b.Length) return false;
        for (var bit = 0; bit < prefix; bit++)
            if (((a[bit / 8] ^ b[bit / 8]) & (0x80 >> (bit % 8))) != 0) return false;
        return true;
    }
}
