using System.Net;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Network;

/// <summary>
/// Plumbs a container's network from the host side: a veth pair whose host end is named <c>vz...</c> (on a bridge,
/// or host-routed with a /32 route and proxy ARP), and whose other end becomes <c>eth0</c> in the container's
/// network namespace. The namespace dies with the container and takes the pair with it.
/// </summary>
public sealed class NetworkSetup(ProcessRunner runner, ILogger<NetworkSetup> logger)
{
    public const string DefaultBridge = "vzbr0";

    /// <summary>The IPv6 gateway a host-routed VE sees: a link-local address on the host end of its veth.</summary>
    public const string RoutedIpv6Gateway = "fe80::1";

    private static readonly ProcessRunOptions Quick = new() { Timeout = TimeSpan.FromSeconds(15) };

    /// <summary>
    /// Where the proxy ARP entries of host-routed VEs are recorded (under the run root); null: host-routed VEs are
    /// reachable from the host only, as before.
    /// </summary>
    public string? ProxyStateDirectory { get; init; }

    private RoutedNeighbourProxy? Proxy => ProxyStateDirectory is { } dir ? new RoutedNeighbourProxy(runner, dir, logger) : null;

    /// <summary>The host end's name for a VE: "vz" + 11 hex digits of its id (interface names stop at 15 characters).</summary>
    public static string HostInterfaceName(Guid id) => "vz" + id.ToString("N")[..11];

    private static string PeerTempName(Guid id) => "vzp" + id.ToString("N")[..11];

    /// <summary>Checks addresses: IPv4 or IPv6 in CIDR form; a bare address gets /32 (/128).</summary>
    public static string NormalizeAddress(string text)
    {
        var t = text.Trim();
        var slash = t.IndexOf('/');
        var addrText = slash < 0 ? t : t[..slash];
        // IPAddress.TryParse also takes legacy IPv4 forms ("198.18.0" = 198.18.0.0); only dotted quads are meant here.
        if (!IPAddress.TryParse(addrText, out var addr) ||
            (addr.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && addrText.Count(c => c == '.') != 3))
            throw Invalid(text, "is not an IP address");
        var max = addr.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32;
        var prefix = max;
        if (slash >= 0 && (!int.TryParse(t[(slash + 1)..], out prefix) || prefix < 1 || prefix > max))
            throw Invalid(text, $"has a prefix length outside 1-{max}");
        return $"{addr}/{prefix}";
    }

    /// <summary>Checks an interface name the kernel would accept (1-15 characters, no '/', whitespace or ':').</summary>
    public static void ValidateInterfaceName(string name, string parameterName)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 15 || name.Any(c => c is '/' or ':' || char.IsWhiteSpace(c)) || name is "." or "..")
            throw new VzInvalidArgumentException("VzInvalidInterfaceName", $"'{name}' is not a valid network interface name.", name, parameterName)
            { RecommendedAction = "Use 1-15 letters, digits, '-', '_' or '.', for example 'vzbr0'." };
    }

    /// <summary>Makes the bridge if it does not exist, and brings it up.</summary>
    public async Task EnsureBridgeAsync(string bridge, CancellationToken ct)
    {
        ValidateInterfaceName(bridge, "Bridge");
        if (!Directory.Exists($"/sys/class/net/{bridge}"))
        {
            logger.LogInformation("Creating bridge {Bridge}.", bridge);
            var r = await runner.RunAsync("ip", ["link", "add", "name", bridge, "type", "bridge"], Quick with { ThrowOnFailure = false }, ct);
            if (r.ExitCode != 0 && !Directory.Exists($"/sys/class/net/{bridge}")) // another session may have made it meanwhile
                throw new VzExternalToolException("ip", r.Arguments, r.ExitCode, r.StandardError, bridge);
        }
        else if (!Directory.Exists($"/sys/class/net/{bridge}/bridge"))
            throw new VzInvalidArgumentException("VzNotABridge", $"The interface '{bridge}' exists but is not a bridge.", bridge, "Bridge")
            { RecommendedAction = "Name a bridge, or a name that is free (the engine makes the bridge)." };
        await Ip(ct, "link", "set", bridge, "up");
    }

    /// <summary>Creates the veth pair for a container whose init is <paramref name="pid"/> and configures eth0 inside.</summary>
    public async Task AttachAsync(Guid id, int pid, ContainerNetworkSettings net, CancellationToken ct)
    {
        if (net.IpAddresses.Count == 0) return;
        var host = HostInterfaceName(id);
        var peer = PeerTempName(id);
        if (net.Mode == NetworkMode.Bridged) await EnsureBridgeAsync(net.Bridge, ct);
        await DetachAsync(id, ct); // a pair left by a failed start
        await Ip(ct, "link", "add", "name", host, "type", "veth", "peer", "name", peer);
        try
        {
            if (net.Mode == NetworkMode.Bridged) await Ip(ct, "link", "set", host, "master", net.Bridge);
            await Ip(ct, "link", "set", host, "up");
            await Ip(ct, "link", "set", peer, "netns", pid.ToString());
            var args = new List<string> { "link", "set", peer, "name", "eth0" };
            if (net.MacAddress is { Length: > 0 } mac) args.AddRange(["address", mac]);
            await InNetns(pid, ct, [.. args]);
            await InNetns(pid, ct, "link", "set", "lo", "up");
            await InNetns(pid, ct, "link", "set", "eth0", "up");
            await ConfigureAddressesAsync(id, pid, net, ct);
        }
        catch
        {
            await DetachAsync(id, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Sets eth0's addresses and routes to what <paramref name="net"/> says (live on a running container).</summary>
    public async Task ConfigureAddressesAsync(Guid id, int pid, ContainerNetworkSettings net, CancellationToken ct)
    {
        var host = HostInterfaceName(id);
        if (!Directory.Exists($"/sys/class/net/{host}"))
        {
            await AttachAsync(id, pid, net, ct);
            return;
        }
        await InNetns(pid, ct, "addr", "flush", "dev", "eth0");
        if (net.Mode == NetworkMode.Routed)
        {
            // venet-like: each address is a /32 the host routes to the veth, and the host answers ARP for the
            // container, so the container's default route can simply point at its own link.
            File.WriteAllText($"/proc/sys/net/ipv4/conf/{host}/proxy_arp", "1");
            await Ip(ct, "route", "flush", "dev", host);
            foreach (var a in net.IpAddresses.Select(NormalizeAddress))
            {
                var bare = a[..a.IndexOf('/')];
                var single = bare.Contains(':') ? $"{bare}/128" : $"{bare}/32";
                // IPv6: no duplicate address detection on a /128 only this VE has (it would hold the address back ~1 s).
                string[] noDad = bare.Contains(':') ? ["nodad"] : [];
                await InNetns(pid, ct, ["addr", "add", single, "dev", "eth0", .. noDad]);
                await Ip(ct, "route", "replace", single, "dev", host);
            }
            await InNetns(pid, ct, "route", "replace", "default", "dev", "eth0");
            if (net.IpAddresses.Any(a => a.Contains(':')))
            {
                // IPv6 has no proxy ARP towards the VE: the host end gets a fixed link-local gateway address instead.
                await Ip(ct, "addr", "replace", RoutedIpv6Gateway + "/64", "dev", host, "nodad");
                await InNetns(pid, ct, "-6", "route", "replace", "default", "via", RoutedIpv6Gateway, "dev", "eth0");
            }
            if (Proxy is { } proxy) await proxy.AddAsync(id, host, net.IpAddresses, ct);
        }
        else
        {
            foreach (var a in net.IpAddresses.Select(NormalizeAddress)) await InNetns(pid, ct, "addr", "add", a, "dev", "eth0");
            if (net.Gateway is { Length: > 0 } gw) await InNetns(pid, ct, "route", "replace", "default", "via", gw);
        }
        logger.LogDebug("Container {Id}: eth0 has {Addresses}.", id, string.Join(", ", net.IpAddresses));
    }

    /// <summary>
    /// Brings a running container's network from <paramref name="before"/> to <paramref name="after"/>: a new mode or
    /// bridge re-plumbs the pair, new addresses are set on eth0, and no addresses left removes the pair.
    /// </summary>
    public async Task ChangeAsync(Guid id, int pid, ContainerNetworkSettings before, ContainerNetworkSettings after, CancellationToken ct)
    {
        if (before.IpAddresses.SequenceEqual(after.IpAddresses) && before.Mode == after.Mode && before.Gateway == after.Gateway && before.Bridge == after.Bridge) return;
        if (before.Mode != after.Mode || before.Bridge != after.Bridge) await DetachAsync(id, ct);
        if (after.IpAddresses.Count > 0) await ConfigureAddressesAsync(id, pid, after, ct);
        else await DetachAsync(id, ct);
    }

    /// <summary>Removes the host end of the pair if it is still there (the kernel removes both ends with the netns).</summary>
    public async Task DetachAsync(Guid id, CancellationToken ct)
    {
        if (Proxy is { } proxy) await proxy.RemoveAsync(id, ct);
        var host = HostInterfaceName(id);
        if (Directory.Exists($"/sys/class/net/{host}"))
            await runner.RunAsync("ip", ["link", "del", host], Quick with { ThrowOnFailure = false }, ct);
        var peer = PeerTempName(id);
        if (Directory.Exists($"/sys/class/net/{peer}"))
            await runner.RunAsync("ip", ["link", "del", peer], Quick with { ThrowOnFailure = false }, ct);
    }

    /// <summary>Sets the UTS hostname of a running container from the host side (the container lacks CAP_SYS_ADMIN).</summary>
    public Task SetHostnameAsync(int pid, string hostname, CancellationToken ct) =>
        runner.RunAsync("nsenter", [$"--uts=/proc/{pid}/ns/uts", "--", "hostname", hostname], Quick, ct);

    private Task Ip(CancellationToken ct, params string[] args) => runner.RunAsync("ip", args, Quick, ct);

    private Task InNetns(int pid, CancellationToken ct, params string[] args) =>
        runner.RunAsync("nsenter", [$"--net=/proc/{pid}/ns/net", "--", "ip", .. args], Quick, ct);

    private static VzInvalidArgumentException Invalid(string text, string why) =>
        new("VzInvalidIpAddress", $"'{text}' {why}.", text, "IpAddress")
        { RecommendedAction = "Give addresses in CIDR form, for example 198.18.0.2/24." };
}
