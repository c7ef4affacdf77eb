using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network.Adapters;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Network.Firewall;

/// <summary>
/// Per-VE firewalls on nftables. Every change renders the module's whole ruleset with the change in it and hands
/// it to <c>nft -f</c> as one transaction; the VE's <c>firewall.yaml</c> is written only after nft took it, so a
/// change nft refuses leaves both the kernel and the file as they were (fail closed). Revoking an allow also
/// deletes the VE's conntrack entries, so established flows stop at once rather than when they idle out.
/// </summary>
public sealed partial class FirewallService(VzPaths paths, VeStore store, VirtualNetworkStore networks, ProcessRunner runner, ILogger<FirewallService> logger)
{
    private static readonly ProcessRunOptions Nft = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// The table the module owns: "vz" for the default cgroup parent, else one per data root named after its cgroup
    /// parent (test runs and the two-host models each own theirs and never touch another's).
    /// </summary>
    public string Table { get; } = TableName(paths);

    public static string TableName(VzPaths paths) =>
        paths.CgroupParent == VzPaths.DefaultCgroupParent ? "vz" : "vz_" + NonIdentifier().Replace(paths.CgroupParent, "_");

    [GeneratedRegex("[^A-Za-z0-9_]")]
    private static partial Regex NonIdentifier();

    /// <summary>How long the last ruleset replacement took in nft (for the benchmark and the verbose log).</summary>
    public TimeSpan LastApplyDuration { get; private set; }

    public string SettingsPath(Guid id) => Path.Combine(paths.VeDirectory(id), "firewall.yaml");

    public FirewallSettings Load(Guid id)
    {
        var path = SettingsPath(id);
        if (!File.Exists(path)) return new FirewallSettings();
        try { return Yaml.Deserializer.Deserialize<FirewallSettings>(File.ReadAllText(path)) ?? new FirewallSettings(); }
        catch (YamlDotNet.Core.YamlException ex) { throw new VzConfigCorruptException(path, ex.Start.Line, ex.Message, ex); }
    }

    public VeFirewallInfo Get(string veName) => Describe(Resolve(veName));

    public IReadOnlyList<VeFirewallRule> GetRules(string veName)
    {
        var config = Resolve(veName);
        var settings = Load(config.Id);
        var counts = RuleCounters(config.Id);
        return settings.Rules.Select((r, i) => new VeFirewallRule
        {
            VeName = config.Name, VeId = config.Id, Position = i + 1, Name = r.Name, Direction = r.Direction, Action = r.Action,
            Protocol = r.Protocol, LocalPort = r.LocalPorts, RemotePort = r.RemotePorts, RemoteAddress = r.RemoteAddresses,
            Packets = counts.GetValueOrDefault(r.Name),
        }).ToList();
    }

    public Task<VeFirewallInfo> SetAsync(string veName, FirewallChanges changes, CancellationToken ct) =>
        ChangeAsync(veName, s =>
        {
            if (changes.Enabled is { } e) s.Enabled = e;
            if (changes.DefaultInbound is { } i) s.DefaultInbound = i;
            if (changes.DefaultOutbound is { } o) s.DefaultOutbound = o;
            if (changes.Rules is { } rules)
            {
                var normalized = rules.Select(FirewallRuleValidator.Normalize).ToList();
                var clash = normalized.GroupBy(r => r.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
                if (clash is not null) throw RuleExists(veName, clash.Key);
                s.Rules = normalized;
            }
        }, ct);

    /// <summary>Adds a rule at <paramref name="position"/> (1-based; null: last).</summary>
    public async Task<VeFirewallRule> AddRuleAsync(string veName, FirewallRule rule, int? position, CancellationToken ct)
    {
        var normalized = FirewallRuleValidator.Normalize(rule);
        await ChangeAsync(veName, s =>
        {
            if (s.Rules.Any(r => string.Equals(r.Name, normalized.Name, StringComparison.OrdinalIgnoreCase))) throw RuleExists(veName, normalized.Name);
            var at = position is { } p ? Math.Clamp(p - 1, 0, s.Rules.Count) : s.Rules.Count;
            s.Rules.Insert(at, normalized);
        }, ct);
        return GetRules(veName).First(r => r.Name == normalized.Name);
    }

    public Task RemoveRuleAsync(string veName, string ruleName, CancellationToken ct) =>
        ChangeAsync(veName, s =>
        {
            var hit = s.Rules.FindIndex(r => string.Equals(r.Name, ruleName, StringComparison.OrdinalIgnoreCase));
            if (hit < 0)
                throw new VzNotFoundException("VzFirewallRuleNotFound", $"The VE '{veName}' has no firewall rule named '{ruleName}'.", ruleName)
                { RecommendedAction = $"See its rules with Get-VzFirewallRule -VeName {veName}." };
            s.Rules.RemoveAt(hit);
        }, ct);

    /// <summary>Replaces the module's ruleset from what is stored (a host reboot, a VE started, a network changed).</summary>
    public async Task ApplyAsync(CancellationToken ct)
    {
        using var held = networks.AcquireLock(ct);
        await ApplyLockedAsync(null, null, ct);
    }

    /// <summary>
    /// Before VE <paramref name="id"/> plumbs its NIC: re-renders the ruleset when the VE has a firewall (its
    /// addresses or MAC may have changed since), or puts it back when the table is gone (a reboot) and something
    /// needs it. Nothing to enforce costs no nft call.
    /// </summary>
    public async Task EnsureAsync(Guid id, CancellationToken ct)
    {
        if (File.Exists(SettingsPath(id)) && Load(id).Enabled) { await ApplyAsync(ct); return; }
        if (networks.List().Count == 0 && !store.List().Any(r => r.Config is { } c && File.Exists(SettingsPath(c.Id)))) return;
        var check = await runner.RunAsync("nft", ["list", "table", "inet", Table], Nft with { ThrowOnFailure = false }, ct);
        if (check.ExitCode != 0) await ApplyAsync(ct);
    }

    /// <summary>
    /// Renders and loads the ruleset; <paramref name="overrideId"/>'s settings are taken from
    /// <paramref name="overrideSettings"/> instead of its file. The caller holds the networks lock.
    /// </summary>
    public async Task ApplyLockedAsync(Guid? overrideId, FirewallSettings? overrideSettings, CancellationToken ct)
    {
        var ves = new List<FirewalledVe>();
        foreach (var record in store.List())
        {
            if (record.Config is not { } c) continue;
            var settings = c.Id == overrideId ? overrideSettings! : Load(c.Id);
            if (settings.Enabled) ves.Add(View(c, settings));
        }
        var fences = networks.List().Select(Fence).ToList();
        var script = NftRuleset.Render(Table, ves, fences);
        var watch = Stopwatch.StartNew();
        var r = await runner.RunAsync("nft", ["-f", "-"], Nft with { StandardInput = script, ThrowOnFailure = false }, ct);
        LastApplyDuration = watch.Elapsed;
        if (r.ExitCode != 0)
            throw new VzExternalToolException("nft", r.Arguments, r.ExitCode, r.StandardError, Table);
        logger.LogDebug("nft ruleset {Table} replaced in {Ms} ms ({Ves} VEs with a firewall).", Table, watch.ElapsedMilliseconds, ves.Count);
    }

    /// <summary>Removes the module's tables (the last network and firewall gone, or a test run ending).</summary>
    public async Task RemoveTablesAsync(CancellationToken ct)
    {
        await runner.RunAsync("nft", ["-f", "-"], Nft with
        {
            StandardInput = $"table inet {Table} {{}}\ndelete table inet {Table}\ntable bridge {Table} {{}}\ndelete table bridge {Table}\n",
        }, ct);
    }

    private async Task<VeFirewallInfo> ChangeAsync(string veName, Action<FirewallSettings> change, CancellationToken ct)
    {
        using var held = networks.AcquireLock(ct);
        // firewall.yaml is not ve.yaml: the networks lock serializes every ruleset change, and taking the VE lock
        // too would invert the order a VE start takes them in (VE lock, then the ruleset at network plumbing).
        var config = Resolve(veName);
        var before = Load(config.Id);
        var after = Load(config.Id);
        change(after);
        await ApplyLockedAsync(config.Id, after, ct);
        AtomicFile.WriteAllText(SettingsPath(config.Id), Yaml.Serializer.Serialize(after));
        if (Narrowed(before, after)) await ForgetFlowsAsync(config, ct);
        return Describe(config, LastApplyDuration.TotalMilliseconds);
    }

    /// <summary>A change that may take away something that was allowed: a rule gone or changed, a policy tightened, the firewall turned on.</summary>
    private static bool Narrowed(FirewallSettings before, FirewallSettings after) =>
        (after.Enabled && !before.Enabled) ||
        after.DefaultInbound != before.DefaultInbound || after.DefaultOutbound != before.DefaultOutbound ||
        !before.Rules.Select(Key).ToHashSet().IsSubsetOf(after.Rules.Select(Key));

    private static string Key(FirewallRule r) =>
        $"{r.Name}|{r.Direction}|{r.Action}|{r.Protocol}|{string.Join(',', r.LocalPorts)}|{string.Join(',', r.RemotePorts)}|{string.Join(',', r.RemoteAddresses)}";

    /// <summary>Deletes conntrack entries to and from the VE's addresses; a VE with no known address has none to find.</summary>
    private async Task ForgetFlowsAsync(VeConfig config, CancellationToken ct)
    {
        foreach (var address in AddressesOf(config))
            foreach (var side in new[] { "-s", "-d" })
            {
                // conntrack exits 1 when nothing matched; that is not a failure here.
                var r = await runner.RunAsync("conntrack", ["-D", side, address], Nft with { ThrowOnFailure = false }, ct);
                if (r.ExitCode is not (0 or 1)) logger.LogWarning("conntrack -D {Side} {Address} failed: {Error}", side, address, r.StandardError.Trim());
            }
    }

    private VeFirewallInfo Describe(VeConfig config, double? applyMilliseconds = null)
    {
        var s = Load(config.Id);
        var view = View(config, s);
        var counts = RuleCounters(config.Id);
        return new VeFirewallInfo
        {
            VeName = config.Name, VeId = config.Id, Enabled = s.Enabled, DefaultInbound = s.DefaultInbound, DefaultOutbound = s.DefaultOutbound,
            RuleCount = s.Rules.Count, AllowedSources = [.. view.Macs, .. view.Addresses], Table = Table,
            InboundChain = NftRuleset.ChainName(view, FirewallDirection.Inbound), OutboundChain = NftRuleset.ChainName(view, FirewallDirection.Outbound),
            InboundDefaultPackets = counts.GetValueOrDefault("default/in"), OutboundDefaultPackets = counts.GetValueOrDefault("default/out"),
            ApplyMilliseconds = applyMilliseconds,
        };
    }

    /// <summary>Packet counters of the VE's chains by rule name ("default/in" and "default/out" for the policies).</summary>
    private Dictionary<string, long> RuleCounters(Guid id)
    {
        var result = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        var prefix = "ve-" + id.ToString("N")[..12];
        foreach (var (suffix, dir) in new[] { ("-in", "in"), ("-out", "out") })
        {
            var r = runner.RunAsync("nft", ["-j", "list", "chain", "inet", Table, prefix + suffix], Nft with { ThrowOnFailure = false }).GetAwaiter().GetResult();
            if (r.ExitCode != 0 || r.StandardOutput.Length > 16 << 20) continue;
            using var doc = JsonDocument.Parse(r.StandardOutput);
            foreach (var item in doc.RootElement.GetProperty("nftables").EnumerateArray())
            {
                if (!item.TryGetProperty("rule", out var rule) || !rule.TryGetProperty("comment", out var comment)) continue;
                var name = comment.GetString() == "default" ? $"default/{dir}" : comment.GetString()!;
                foreach (var expr in rule.GetProperty("expr").EnumerateArray())
                    if (expr.TryGetProperty("counter", out var counter) && counter.TryGetProperty("packets", out var packets))
                        result[name] = result.GetValueOrDefault(name) + packets.GetInt64();
            }
        }
        return result;
    }

    private FirewalledVe View(VeConfig c, FirewallSettings settings)
    {
        var macs = new List<string>();
        var ports = new List<string>();
        var routed = new List<string>();
        if (c.Container?.Network is { } net && net.IpAddresses.Count > 0)
        {
            var host = NetworkSetup.HostInterfaceName(c.Id);
            if (net.Mode == NetworkMode.Routed) routed.Add(host);
            else
            {
                ports.Add(host);
                if (net.MacAddress is { Length: > 0 } mac) macs.Add(mac.ToLowerInvariant());
            }
        }
        if (c.Vm is { NetworkMode: VmNetworkMode.Bridge } vm)
        {
            ports.Add(QemuCommandLine.TapName(c.Id));
            if (vm.MacAddress is { Length: > 0 } mac) macs.Add(mac.ToLowerInvariant());
        }
        // Added adapters (Add-VzNetworkAdapter) are bridge ports like the first: their MACs and addresses join the VE's.
        foreach (var a in c.NetworkAdapters ?? [])
        {
            ports.Add(c.Type == VeType.Container ? AdapterNames.VethHost(c.Id, a.Slot) : AdapterNames.Tap(c.Id, a.Slot));
            macs.Add(a.MacAddress.ToLowerInvariant());
        }
        return new FirewalledVe(c.Id, c.Name, settings, macs, AddressesOf(c), ports, routed);
    }

    private static List<string> AddressesOf(VeConfig c) =>
        (c.Container?.Network.IpAddresses ?? []).Concat((c.NetworkAdapters ?? []).SelectMany(a => a.IpAddresses ?? []))
            .Select(a => NetworkSetup.NormalizeAddress(a).Split('/')[0]).Distinct().ToList();

    private static NetworkFence Fence(VirtualNetwork n) => new(
        n.Bridge,
        n.Type == VirtualNetworkType.HostOnly && n.Nat && n.HostAddress is { } a ? FirewallRuleValidator.NormalizeNetwork(a) : null,
        n.Type == VirtualNetworkType.Private);

    private VeConfig Resolve(string veName) =>
        store.TryFind(veName)?.Config
        ?? throw new VzNotFoundException("VzVeNotFound", $"There is no container or VM named '{veName}'.", veName)
        { RecommendedAction = "See the VEs with Get-VzContainer and Get-VzVm." };

    private static VzAlreadyExistsException RuleExists(string veName, string rule) =>
        new("VzFirewallRuleExists", $"The VE '{veName}' already has a firewall rule named '{rule}'.", rule)
        { RecommendedAction = "Choose another -Name, or remove the existing rule first with Remove-VzFirewallRule." };
}
