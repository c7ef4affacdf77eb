using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Network;

/// <summary>
/// Makes a host-routed VE reachable from other machines on the host's own subnet (Virtuozzo's PSBM-44285): for
/// each VE address inside a subnet the host has on some interface (the uplink), the host answers ARP (IPv4) or
/// neighbour solicitations (IPv6, NDP proxy) for it there (a proxy neighbour entry) and forwards between that
/// interface and the VE's veth. The entries made are recorded in the run folder so that removing them never touches
/// one the host's admin made.
/// </summary>
/// <remarks>
/// IPv6 needs more of the uplink than IPv4: the kernel answers a proxied solicitation only on an interface whose
/// own <c>forwarding</c> is on (and <c>proxy_ndp</c>), and forwards IPv6 only when <c>all.forwarding</c> is on or
/// the ingress interface has <c>force_forwarding</c> (Linux 6.17+). The module sets the per-interface switches on
/// the uplink and the veth and never the host-wide one; an uplink that took router advertisements
/// (<c>accept_ra</c> 1) is moved to 2 so that turning its forwarding on does not make the host forget its routes.
/// </remarks>
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
            var uplink = interfaces.FirstOrDefault(i => Contains(i.Network, i.Prefix, addr)).Name;
            if (uplink is null) continue; // an address of no local subnet is reached through the host's routing alone
            if (addr.AddressFamily == AddressFamily.InterNetworkV6 && !PrepareIpv6(uplink, vethHost, addr)) continue;
            await runner.RunAsync("ip", ["neigh", "replace", "proxy", addr.ToString(), "dev", uplink], Quick, ct);
            made.Add($"{addr} {uplink}");
            if (addr.AddressFamily == AddressFamily.InterNetwork)
            {
                // Forwarding on the two interfaces this path uses, not host-wide.
                File.WriteAllText($"/proc/sys/net/ipv4/conf/{uplink}/forwarding", "1");
                File.WriteAllText($"/proc/sys/net/ipv4/conf/{vethHost}/forwarding", "1");
                // The kernel delays proxied ARP answers by up to 0.8 s by default; a VE should answer as fast as a host.
                File.WriteAllText($"/proc/sys/net/ipv4/neigh/{uplink}/proxy_delay", "0");
            }
            logger.LogDebug("Proxy neighbour entry for {Address} on {Uplink}.", addr, uplink);
        }
        if (made.Count == 0) return;
        Directory.CreateDirectory(stateDirectory);
        File.WriteAllLines(StateFile(id), made);
    }

    /// <summary>
    /// Turns on what the kernel needs to answer and forward for an IPv6 VE address on <paramref name="uplink"/>;
    /// false (with a warning) when only the host-wide forwarding switch could, which the module does not flip.
    /// </summary>
    private bool PrepareIpv6(string uplink, string vethHost, IPAddress addr)
    {
        var hostWide = File.ReadAllText("/proc/sys/net/ipv6/conf/all/forwarding").Trim() == "1";
        if (!hostWide && !File.Exists($"/proc/sys/net/ipv6/conf/{uplink}/force_forwarding"))
        {
            logger.LogWarning("The host-routed address {Address} is reachable from the host only: this kernel forwards IPv6 per interface " +
                "only from Linux 6.17 (force_forwarding), and net.ipv6.conf.all.forwarding is off. Turn it on to reach the VE from {Uplink}'s subnet.", addr, uplink);
            return false;
        }
        var conf = $"/proc/sys/net/ipv6/conf/{uplink}";
        if (File.ReadAllText($"{conf}/accept_ra").Trim() == "1") File.WriteAllText($"{conf}/accept_ra", "2");
        File.WriteAllText($"{conf}/forwarding", "1");
        File.WriteAllText($"{conf}/proxy_ndp", "1");
        if (!hostWide)
        {
            File.WriteAllText($"{conf}/force_forwarding", "1");
            File.WriteAllText($"/proc/sys/net/ipv6/conf/{vethHost}/force_forwarding", "1");
        }
        // As for ARP: the default delay of up to 0.8 s before a proxied answer would make the VE slower to find than a host.
        File.WriteAllText($"/proc/sys/net/ipv6/neigh/{uplink}/proxy_delay", "0");
        return true;
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
        var r = await runner.RunAsync("ip", ["-j", "addr", "show"], Quick, ct);
        var list = new List<(string, IPAddress, int)>();
        using var doc = JsonDocument.Parse(r.StandardOutput);
        foreach (var link in doc.RootElement.EnumerateArray())
        {
            var name = link.GetProperty("ifname").GetString()!;
            if (name == exclude || name == "lo" || !link.TryGetProperty("addr_info", out var infos)) continue;
            foreach (var info in infos.EnumerateArray())
            {
                if (!info.TryGetProperty("local", out var local) || !info.TryGetProperty("prefixlen", out var prefix)) continue;
                var address = IPAddress.Parse(local.GetString()!);
                var single = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
                // A link-local subnet is on every interface: no VE address is "on the uplink's link" through it.
                if (prefix.GetInt32() < single && !address.IsIPv6LinkLocal) list.Add((name, address, prefix.GetInt32()));
            }
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
