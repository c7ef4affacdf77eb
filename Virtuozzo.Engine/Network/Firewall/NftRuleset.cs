using System.Text;

namespace Virtuozzo.Engine.Network.Firewall;

/// <summary>
/// Renders the module's whole nftables state as one <c>nft -f</c> script: the inet table (per-VE chain sets,
/// dispatch from the forward/input/output hooks, NAT, private-network fences) and a bridge table (anti-spoofing on
/// the VEs' bridge ports). The script first empties and deletes both tables and then defines them again, and nft
/// runs a file as one transaction: either the new ruleset is in place or the old one still is; there is no moment
/// with a VE unfiltered (the failure of Incus #4008).
/// </summary>
/// <remarks>
/// Bridged traffic reaches the inet hooks through br_netfilter, where the in and out devices are the bridge, not
/// the port: so packets from a bridged VE are recognised by their source MAC (the bridge table drops any other
/// source MAC on its port), packets to a VE by its addresses (or by its MAC when it has none configured), and
/// host-routed NICs by their interface. A rule's Accept is rendered as <c>return</c>, not <c>accept</c>: an accept
/// would end the hook, and the peer VE's chain must still judge the packet.
/// </remarks>
public static class NftRuleset
{
    public static string Render(string table, IReadOnlyList<FirewalledVe> ves, IReadOnlyList<NetworkFence> networks)
    {
        var active = ves.Where(v => v.Settings.Enabled).OrderBy(v => v.Id).ToList();
        var s = new StringBuilder();
        // "table x {}" makes sure the table exists, so the delete that follows cannot fail on a first run.
        s.Append($"table inet {table} {{}}\ndelete table inet {table}\n");
        s.Append($"table bridge {table} {{}}\ndelete table bridge {table}\n");
        // Nothing to enforce: the module leaves no empty table behind (the last network or firewall removed).
        if (active.Count == 0 && networks.Count == 0) return s.ToString();

        s.Append($"table inet {table} {{\n");
        s.Append("\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
        foreach (var n in networks.Where(n => n.Isolated))
        {
            s.Append($"\t\tiifname {Q(n.Bridge)} oifname != {Q(n.Bridge)} counter drop comment {Q("private:" + n.Bridge)}\n");
            s.Append($"\t\toifname {Q(n.Bridge)} iifname != {Q(n.Bridge)} counter drop comment {Q("private:" + n.Bridge)}\n");
        }
        foreach (var v in active) AppendOutboundDispatch(s, v);
        foreach (var v in active) AppendInboundDispatch(s, v, viaOutput: false);
        s.Append("\t}\n");

        s.Append("\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n");
        foreach (var n in networks.Where(n => n.Isolated)) s.Append($"\t\tiifname {Q(n.Bridge)} counter drop comment {Q("private:" + n.Bridge)}\n");
        foreach (var v in active) AppendOutboundDispatch(s, v);
        s.Append("\t}\n");

        s.Append("\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n");
        foreach (var n in networks.Where(n => n.Isolated)) s.Append($"\t\toifname {Q(n.Bridge)} counter drop comment {Q("private:" + n.Bridge)}\n");
        foreach (var v in active) AppendInboundDispatch(s, v, viaOutput: true);
        s.Append("\t}\n");

        var nat = networks.Where(n => n.MasqueradeSubnet is not null).ToList();
        if (nat.Count > 0)
        {
            s.Append("\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
            foreach (var n in nat)
            {
                var fam = n.MasqueradeSubnet!.Contains(':') ? "ip6" : "ip";
                s.Append($"\t\t{fam} saddr {n.MasqueradeSubnet} {fam} daddr != {n.MasqueradeSubnet} oifname != {Q(n.Bridge)} counter masquerade\n");
            }
            s.Append("\t}\n");
        }

        foreach (var v in active)
        {
            AppendVeChain(s, v, FirewallDirection.Outbound);
            AppendVeChain(s, v, FirewallDirection.Inbound);
        }
        s.Append("}\n");

        s.Append($"table bridge {table} {{\n");
        s.Append("\tchain prerouting {\n\t\ttype filter hook prerouting priority -200; policy accept;\n");
        foreach (var v in active) AppendAntiSpoofing(s, v);
        s.Append("\t}\n}\n");
        return s.ToString();
    }

    /// <summary>The chain of one VE and direction, as nft names it.</summary>
    public static string ChainName(FirewalledVe ve, FirewallDirection direction) =>
        ve.ChainPrefix + (direction == FirewallDirection.Inbound ? "-in" : "-out");

    private static void AppendOutboundDispatch(StringBuilder s, FirewalledVe v)
    {
        var chain = ChainName(v, FirewallDirection.Outbound);
        if (v.BridgePorts.Count > 0 && v.Macs.Count > 0) s.Append($"\t\tether saddr {Set(v.Macs)} jump {chain}\n");
        if (v.RoutedInterfaces.Count > 0) s.Append($"\t\tiifname {Set(v.RoutedInterfaces.Select(Q))} jump {chain}\n");
    }

    private static void AppendInboundDispatch(StringBuilder s, FirewalledVe v, bool viaOutput)
    {
        var chain = ChainName(v, FirewallDirection.Inbound);
        if (v.RoutedInterfaces.Count > 0) s.Append($"\t\toifname {Set(v.RoutedInterfaces.Select(Q))} jump {chain}\n");
        if (v.BridgePorts.Count == 0) return;
        if (v.Addresses.Count > 0)
        {
            // A routed VE matches on its interface above; matching its addresses too would run its chain twice.
            var guard = v.RoutedInterfaces.Count > 0 ? $"oifname != {Set(v.RoutedInterfaces.Select(Q))} " : "";
            if (v.V4.Any()) s.Append($"\t\t{guard}ip daddr {Set(v.V4)} jump {chain}\n");
            if (v.V6.Any()) s.Append($"\t\t{guard}ip6 daddr {Set(v.V6)} jump {chain}\n");
        }
        // A VM whose guest picks its own address: its MAC is all there is (the host's own output has no L2 header yet).
        else if (!viaOutput && v.Macs.Count > 0) s.Append($"\t\tether daddr {Set(v.Macs)} jump {chain}\n");
    }

    private static void AppendVeChain(StringBuilder s, FirewalledVe v, FirewallDirection direction)
    {
        var inbound = direction == FirewallDirection.Inbound;
        s.Append($"\tchain {ChainName(v, direction)} {{\n");
        // Replies of a flow the other side's filter let start; every original-direction packet is judged again,
        // so revoking an allow stops an established flow at its next packet.
        s.Append("\t\tct direction reply return\n");
        // A TCP packet that starts no connection yet has none (conntrack entries flushed on revoke, a flow from
        // before the firewall came on) would otherwise be picked up mid-stream as new; it is not a valid start.
        s.Append("\t\tmeta l4proto tcp ct state new tcp flags & (fin|syn|rst|ack) != syn counter drop\n");
        if (!inbound && v.RoutedInterfaces.Count > 0)
        {
            // Host-routed NICs are not on a bridge, so their anti-spoofing lives here.
            var ifs = Set(v.RoutedInterfaces.Select(Q));
            s.Append(v.V4.Any() ? $"\t\tiifname {ifs} meta nfproto ipv4 ip saddr != {Set(v.V4)} counter drop\n" : $"\t\tiifname {ifs} meta nfproto ipv4 counter drop\n");
            s.Append($"\t\tiifname {ifs} meta nfproto ipv6 ip6 saddr != {Set(v.V6.Append("fe80::/10"))} counter drop\n");
        }
        // Plumbing every VE needs whatever its rules say: DHCP as a client, IPv6 neighbour discovery.
        s.Append(inbound ? "\t\tudp sport 67 udp dport 68 return\n" : "\t\tudp sport 68 udp dport 67 return\n");
        s.Append("\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } return\n");
        foreach (var rule in v.Settings.Rules.Where(r => r.Direction == direction))
            foreach (var line in RuleLines(rule)) s.Append($"\t\t{line} comment {Q(rule.Name)}\n");
        var fallback = inbound ? v.Settings.DefaultInbound : v.Settings.DefaultOutbound;
        foreach (var line in VerdictLines("", fallback)) s.Append($"\t\t{line} comment \"default\"\n");
        s.Append("\t}\n");
    }

    /// <summary>
    /// The nft lines of one rule: one per address family its remote addresses name (never wider than written: an
    /// IPv4 remote address gives no IPv6 line, Incus #4022), and for Reject one per reject kind.
    /// </summary>
    public static IEnumerable<string> RuleLines(FirewallRule rule)
    {
        var inbound = rule.Direction == FirewallDirection.Inbound;
        var remoteField = inbound ? "saddr" : "daddr";
        var match = new StringBuilder();
        match.Append(rule.Protocol switch
        {
            "tcp" => "meta l4proto tcp ",
            "udp" => "meta l4proto udp ",
            "icmp" => "meta l4proto icmp ",
            "icmpv6" => "meta l4proto ipv6-icmp ",
            _ => "",
        });
        if (rule.LocalPorts.Count > 0) match.Append($"{rule.Protocol} {(inbound ? "dport" : "sport")} {Set(rule.LocalPorts)} ");
        if (rule.RemotePorts.Count > 0) match.Append($"{rule.Protocol} {(inbound ? "sport" : "dport")} {Set(rule.RemotePorts)} ");
        var prefixes = new List<string>();
        var v4 = rule.RemoteAddresses.Where(a => !a.Contains(':')).ToList();
        var v6 = rule.RemoteAddresses.Where(a => a.Contains(':')).ToList();
        if (v4.Count > 0) prefixes.Add($"ip {remoteField} {Set(v4)} ");
        if (v6.Count > 0) prefixes.Add($"ip6 {remoteField} {Set(v6)} ");
        if (prefixes.Count == 0) prefixes.Add("");
        foreach (var p in prefixes)
            foreach (var line in VerdictLines(p + match, rule.Action, rule.Protocol)) yield return line;
    }

    private static IEnumerable<string> VerdictLines(string match, FirewallAction action, string protocol = "any")
    {
        switch (action)
        {
            case FirewallAction.Accept: yield return $"{match}counter return"; break;
            case FirewallAction.Drop: yield return $"{match}counter drop"; break;
            default:
                if (protocol is "tcp" or "any") yield return $"{match}{(protocol == "any" ? "meta l4proto tcp " : "")}counter reject with tcp reset";
                if (protocol != "tcp") yield return $"{match}counter reject with icmpx type admin-prohibited";
                break;
        }
    }

    private static void AppendAntiSpoofing(StringBuilder s, FirewalledVe v)
    {
        if (v.BridgePorts.Count == 0) return;
        var ports = Set(v.BridgePorts.Select(Q));
        // Without a known MAC nothing on the port can be trusted to be the VE's: drop it all rather than run open.
        if (v.Macs.Count == 0) { s.Append($"\t\tiifname {ports} counter drop\n"); return; }
        var macs = Set(v.Macs);
        s.Append($"\t\tiifname {ports} ether saddr != {macs} counter drop\n");
        s.Append($"\t\tiifname {ports} ether type arp arp saddr ether != {macs} counter drop\n");
        if (v.V4.Any())
        {
            s.Append($"\t\tiifname {ports} ether type arp arp saddr ip != {Set(v.V4)} counter drop\n");
            s.Append($"\t\tiifname {ports} ether type ip ip saddr != {Set(v.V4)} counter drop\n");
        }
        if (v.Addresses.Count > 0)
            s.Append($"\t\tiifname {ports} ether type ip6 ip6 saddr != {Set(v.V6.Append("fe80::/10").Append("::"))} counter drop\n");
    }

    private static string Q(string text) => "\"" + text + "\"";

    private static string Set(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count == 1 ? list[0] : "{ " + string.Join(", ", list) + " }";
    }
}
