using System.Net;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network.Firewall;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Network;

/// <summary>
/// Virtual networks: Bridged (a host interface joins the bridge), HostOnly (the host has an address on it, with
/// optional NAT and DHCP), Private (no host address, no uplink, fenced off in nft). A network is brought up when
/// it is made, at the first start of a VE on it, and by the host service, so a reboot does not lose it. The VEs
/// join a network by joining its bridge.
/// </summary>
public sealed class VirtualNetworkService(VzPaths paths, VeStore ves, VirtualNetworkStore store, FirewallService firewall,
    NetworkSetup setup, ProcessRunner runner, ILogger<VirtualNetworkService> logger)
{
    private static readonly ProcessRunOptions Quick = new() { Timeout = TimeSpan.FromSeconds(15) };
    private readonly DnsmasqProcess dnsmasq = new(runner, logger);

    public IReadOnlyList<VirtualNetworkInfo> List() => store.List().Select(Describe).ToList();

    public VirtualNetworkInfo Get(string name) => Describe(Find(name));

    public async Task<VirtualNetworkInfo> CreateAsync(string name, VirtualNetworkType type, VirtualNetworkChanges spec, CancellationToken ct)
    {
        VirtualNetworkStore.ValidateName(name);
        using var held = store.AcquireLock(ct);
        if (store.TryGet(name) is not null)
            throw new VzAlreadyExistsException("VzNetworkExists", $"A network named '{name}' already exists.", name)
            { RecommendedAction = "Choose another name, or change the existing one with Set-VzNetwork." };
        var bridge = spec.Bridge ?? DefaultBridge(name);
        var network = new VirtualNetwork { Name = name, Type = type, Bridge = bridge, CreatedAt = DateTimeOffset.UtcNow };
        Merge(network, spec);
        Validate(network);
        if (store.List().FirstOrDefault(n => string.Equals(n.Bridge, bridge, StringComparison.Ordinal)) is { } other)
            throw new VzAlreadyExistsException("VzNetworkBridgeInUse", $"The bridge '{bridge}' already carries the network '{other.Name}'.", bridge)
            { RecommendedAction = "Give another -Bridge." };
        store.Write(network);
        try
        {
            await UpLockedAsync(network, ct);
            await firewall.ApplyLockedAsync(null, null, ct);
        }
        catch
        {
            await DownLockedAsync(network);
            store.Delete(name);
            throw;
        }
        return Describe(network);
    }

    public async Task<VirtualNetworkInfo> SetAsync(string name, VirtualNetworkChanges changes, CancellationToken ct)
    {
        using var held = store.AcquireLock(ct);
        var before = Find(name);
        if (changes.Bridge is { } b && b != before.Bridge)
            throw new VzInvalidArgumentException("VzNetworkBridgeFixed", $"The bridge of network '{name}' cannot change.", name, "Bridge")
            { RecommendedAction = "Make a new network with the bridge you want and move the VEs to it." };
        var after = Find(name);
        Merge(after, changes);
        Validate(after);
        var wasUp = IsUp(before);
        if (wasUp) await DownLockedAsync(before);
        try
        {
            if (wasUp) await UpLockedAsync(after, ct);
            store.Write(after);
            await firewall.ApplyLockedAsync(null, null, ct);
        }
        catch
        {
            store.Write(before);
            if (wasUp) { await DownLockedAsync(after); await UpLockedAsync(before, CancellationToken.None); }
            throw;
        }
        return Describe(after);
    }

    public async Task RemoveAsync(string name, CancellationToken ct)
    {
        using var held = store.AcquireLock(ct);
        var network = Find(name);
        var users = VeNames(network);
        if (users.Count > 0)
            throw new VzInvalidStateException("VzNetworkInUse", $"The network '{name}' is in use by {string.Join(", ", users)}.", name)
            { RecommendedAction = "Move those VEs to another network (or remove them) first." };
        await DownLockedAsync(network);
        store.Delete(network.Name);
        await firewall.ApplyLockedAsync(null, null, ct);
    }

    /// <summary>Brings up the network that owns <paramref name="bridge"/>, if one does (a VE on it is starting).</summary>
    public async Task EnsureUpForBridgeAsync(string bridge, CancellationToken ct)
    {
        if (store.List().FirstOrDefault(n => n.Bridge == bridge) is not { } network || IsUp(network)) return;
        using var held = store.AcquireLock(ct);
        await UpLockedAsync(network, ct);
        await firewall.ApplyLockedAsync(null, null, ct);
    }

    /// <summary>Brings every stored network up (the host service at its start).</summary>
    public async Task EnsureAllUpAsync(CancellationToken ct)
    {
        var networks = store.List();
        if (networks.Count == 0) return;
        using var held = store.AcquireLock(ct);
        foreach (var n in networks)
            if (!IsUp(n)) await UpLockedAsync(n, ct);
        await firewall.ApplyLockedAsync(null, null, ct);
    }

    private async Task UpLockedAsync(VirtualNetwork n, CancellationToken ct)
    {
        await setup.EnsureBridgeAsync(n.Bridge, ct);
        switch (n.Type)
        {
            case VirtualNetworkType.HostOnly:
                await runner.RunAsync("ip", ["addr", "replace", n.HostAddress!, "dev", n.Bridge], Quick, ct);
                // Forwarding for this bridge only: the host-wide switch is the host's business, not the module's.
                File.WriteAllText($"/proc/sys/net/ipv4/conf/{n.Bridge}/forwarding", n.Nat ? "1" : "0");
                if (n.Dhcp)
                {
                    var (first, last) = DhcpBounds(n);
                    var prefix = int.Parse(n.HostAddress!.Split('/')[1]);
                    await dnsmasq.StartAsync(paths.RunRoot, n, first, last, Mask(prefix), ct);
                }
                break;
            case VirtualNetworkType.Bridged:
                if (!Directory.Exists($"/sys/class/net/{n.Uplink}"))
                    throw new VzNotFoundException("VzNetworkUplinkNotFound", $"The uplink '{n.Uplink}' of network '{n.Name}' does not exist on this host.", n.Uplink)
                    { RecommendedAction = "Give an existing host interface with -Uplink (see 'ip link')." };
                await runner.RunAsync("ip", ["link", "set", n.Uplink!, "master", n.Bridge, "up"], Quick, ct);
                break;
            case VirtualNetworkType.Private:
                break;
        }
        logger.LogInformation("Network {Name} ({Type}) is up on {Bridge}.", n.Name, n.Type, n.Bridge);
    }

    private async Task DownLockedAsync(VirtualNetwork n)
    {
        await dnsmasq.StopAsync(paths.RunRoot, n.Name);
        if (n.Type == VirtualNetworkType.Bridged && n.Uplink is { } up && Directory.Exists($"/sys/class/net/{up}"))
            await runner.RunAsync("ip", ["link", "set", up, "nomaster"], Quick with { ThrowOnFailure = false });
        if (Directory.Exists($"/sys/class/net/{n.Bridge}/bridge"))
            await runner.RunAsync("ip", ["link", "del", n.Bridge], Quick with { ThrowOnFailure = false });
    }

    private static void Merge(VirtualNetwork n, VirtualNetworkChanges c)
    {
        if (c.HostAddress is { } a) n.HostAddress = a.Length == 0 ? null : NetworkSetup.NormalizeAddress(a);
        if (c.Nat is { } nat) n.Nat = nat;
        if (c.Dhcp is { } dhcp) n.Dhcp = dhcp;
        if (c.DhcpRange is { } r) n.DhcpRange = r.Length == 0 ? null : r.Trim();
        if (c.Uplink is { } u) n.Uplink = u.Length == 0 ? null : u;
    }

    private static void Validate(VirtualNetwork n)
    {
        NetworkSetup.ValidateInterfaceName(n.Bridge, "Bridge");
        if (n.Uplink is { } up) NetworkSetup.ValidateInterfaceName(up, "Uplink");
        switch (n.Type)
        {
            case VirtualNetworkType.HostOnly:
                if (n.HostAddress is null || n.HostAddress.Contains(':') || n.HostAddress.EndsWith("/32"))
                    throw Invalid(n, "VzNetworkHostAddressRequired", "A HostOnly network needs the host's IPv4 address on it with its prefix (-HostAddress 198.19.20.1/24).", "HostAddress");
                if (n.Uplink is not null) throw Invalid(n, "VzNetworkOptionNotForType", "Only a Bridged network has an uplink.", "Uplink");
                if (n.Dhcp) DhcpBounds(n);
                break;
            case VirtualNetworkType.Bridged:
                if (n.Uplink is null) throw Invalid(n, "VzNetworkUplinkRequired", "A Bridged network needs the host interface that joins it (-Uplink eth1).", "Uplink");
                if (n.HostAddress is not null || n.Nat || n.Dhcp) throw Invalid(n, "VzNetworkOptionNotForType", "HostAddress, Nat and Dhcp belong to HostOnly networks; a Bridged network takes its addressing from the uplink's network.", "HostAddress");
                break;
            case VirtualNetworkType.Private:
                if (n.HostAddress is not null || n.Nat || n.Dhcp || n.Uplink is not null)
                    throw Invalid(n, "VzNetworkOptionNotForType", "A Private network has no host address, NAT, DHCP or uplink: its VEs reach only each other.", "HostAddress");
                break;
        }
    }

    /// <summary>The DHCP pool: the given range (inside the subnet, not the host's address), else .100-.199 of a /24 or wider.</summary>
    private static (string First, string Last) DhcpBounds(VirtualNetwork n)
    {
        var subnet = FirewallRuleValidator.NormalizeNetwork(n.HostAddress!);
        var baseAddr = ToUInt(IPAddress.Parse(subnet.Split('/')[0]));
        var prefix = int.Parse(subnet.Split('/')[1]);
        var size = 1u << (32 - prefix);
        uint first, last;
        if (n.DhcpRange is { } range)
        {
            var parts = range.Split('-');
            if (parts.Length != 2 || !IPAddress.TryParse(parts[0], out var a) || !IPAddress.TryParse(parts[1], out var b) ||
                a.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || b.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
                throw Invalid(n, "VzInvalidDhcpRange", $"'{range}' is not a range of two IPv4 addresses (first-last).", "DhcpRange");
            (first, last) = (ToUInt(a), ToUInt(b));
        }
        else
        {
            if (prefix > 24) throw Invalid(n, "VzInvalidDhcpRange", $"The subnet {subnet} is smaller than a /24: give the pool with -DhcpRange.", "DhcpRange");
            (first, last) = (baseAddr + 100, baseAddr + 199);
        }
        var host = ToUInt(IPAddress.Parse(n.HostAddress!.Split('/')[0]));
        if (first > last || first <= baseAddr || last >= baseAddr + size - 1 || (host >= first && host <= last))
            throw Invalid(n, "VzInvalidDhcpRange", $"The DHCP pool must lie inside {subnet}, low to high, and leave out the host's address.", "DhcpRange");
        return (FromUInt(first), FromUInt(last));
    }

    private static string Mask(int prefix) => FromUInt(prefix == 0 ? 0 : uint.MaxValue << (32 - prefix));

    private static uint ToUInt(IPAddress a) { var b = a.GetAddressBytes(); return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]); }

    private static string FromUInt(uint v) => new IPAddress([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]).ToString();

    /// <summary>"vzn-" + the name when that fits an interface name (15 characters); otherwise -Bridge is needed.</summary>
    private static string DefaultBridge(string name)
    {
        var bridge = "vzn-" + name;
        if (bridge.Length > 15)
            throw new VzInvalidArgumentException("VzNetworkBridgeNameNeeded", $"The network name '{name}' is too long to name its bridge after it (interface names stop at 15 characters).", name, "Bridge")
            { RecommendedAction = "Give the bridge's name with -Bridge (up to 15 characters), or use a name of up to 11 characters." };
        return bridge;
    }

    private static bool IsUp(VirtualNetwork n)
    {
        var dir = $"/sys/class/net/{n.Bridge}";
        if (!Directory.Exists(dir + "/bridge")) return false;
        try { return (Convert.ToInt32(File.ReadAllText(dir + "/flags").Trim(), 16) & 1) == 1; } // IFF_UP
        catch (IOException) { return false; }
    }

    private VirtualNetworkInfo Describe(VirtualNetwork n) => new()
    {
        Name = n.Name, Type = n.Type, Bridge = n.Bridge, HostAddress = n.HostAddress, Nat = n.Nat, Dhcp = n.Dhcp,
        DhcpRange = n.DhcpRange, Uplink = n.Uplink, IsUp = IsUp(n), DhcpProcessId = DnsmasqProcess.RunningPid(paths.RunRoot, n.Name),
        VeNames = VeNames(n), CreatedAt = n.CreatedAt,
    };

    private List<string> VeNames(VirtualNetwork n) => ves.List()
        .Where(r => r.Config is { } c &&
            ((c.Container?.Network is { Mode: NetworkMode.Bridged } cn && cn.IpAddresses.Count > 0 && cn.Bridge == n.Bridge) ||
             (c.Vm is { NetworkMode: VmNetworkMode.Bridge } vm && vm.Bridge == n.Bridge) ||
             (c.NetworkAdapters ?? []).Any(a => string.Equals(a.Network, n.Name, StringComparison.OrdinalIgnoreCase))))
        .Select(r => r.Config!.Name).OrderBy(x => x).ToList();

    private VirtualNetwork Find(string name)
    {
        VirtualNetworkStore.ValidateName(name);
        return store.TryGet(name) ?? throw new VzNotFoundException("VzNetworkNotFound", $"There is no network named '{name}'.", name)
        { RecommendedAction = "See the networks with Get-VzNetwork." };
    }

    private static VzInvalidArgumentException Invalid(VirtualNetwork n, string id, string message, string parameter) =>
        new(id, message, n.Name, parameter) { RecommendedAction = "See Get-Help New-VzNetwork for what each type takes." };
}
