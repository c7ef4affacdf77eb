using Virtuozzo.Engine.Network.Firewall;
using Xunit;

namespace Virtuozzo.Engine.Tests.Network;

/// <summary>The rendered ruleset: one transaction that replaces both tables, rules never wider than written.</summary>
public sealed class NftRulesetTests
{
    private static readonly Guid Ct = Guid.Parse("11111111-2222-3333-4444-555555555555");

    private static FirewalledVe Ve(params FirewallRule[] rules) => new(Ct, "web", new FirewallSettings
    {
        Enabled = true, DefaultInbound = FirewallAction.Drop, DefaultOutbound = FirewallAction.Accept, Rules = [.. rules],
    }, ["00:1c:42:aa:bb:cc"], ["198.19.20.2", "fd00::2"], ["vz11111111222"], []);

    private static FirewallRule Rule(FirewallDirection d, FirewallAction a, string protocol, string[] ports, string[] remote) =>
        FirewallRuleValidator.Normalize(new FirewallRule { Name = "r", Direction = d, Action = a, Protocol = protocol, LocalPorts = [.. ports], RemoteAddresses = [.. remote] });

    [Fact]
    public void Script_replaces_both_tables_so_nft_applies_it_as_one_transaction()
    {
        var s = NftRuleset.Render("vz_t", [Ve()], []);
        Assert.StartsWith("table inet vz_t {}\ndelete table inet vz_t\ntable bridge vz_t {}\ndelete table bridge vz_t\n", s);
        Assert.Contains("chain ve-111111112222-in {", s);
        Assert.Contains("chain ve-111111112222-out {", s);
    }

    [Fact]
    public void An_ipv4_remote_address_gives_no_ipv6_line()
    {
        var lines = NftRuleset.RuleLines(Rule(FirewallDirection.Inbound, FirewallAction.Accept, "tcp", ["22"], ["198.19.20.0/24"])).ToList();
        Assert.Equal(["ip saddr 198.19.20.0/24 meta l4proto tcp tcp dport 22 counter return"], lines);
    }

    [Fact]
    public void Every_line_of_a_rule_with_addresses_carries_an_address_match()
    {
        // Property of the renderer (the Incus #4022 class): for any mix of families, protocols and actions, no line
        // of a rule that names remote addresses lacks an address match.
        var protocols = new[] { "any", "tcp", "udp" };
        var sets = new[] { new[] { "198.19.20.0/24" }, ["fd00::/64"], ["198.19.20.0/24", "fd00::/64"], ["198.19.21.5"] };
        foreach (var d in Enum.GetValues<FirewallDirection>())
            foreach (var a in Enum.GetValues<FirewallAction>())
                foreach (var p in protocols)
                    foreach (var set in sets)
                        foreach (var line in NftRuleset.RuleLines(Rule(d, a, p, [], set)))
                            Assert.Matches(@"^ip6? [sd]addr ", line);
    }

    [Fact]
    public void Outbound_ports_are_destination_ports_and_inbound_ports_are_local()
    {
        Assert.Contains("tcp sport 80", NftRuleset.RuleLines(Rule(FirewallDirection.Outbound, FirewallAction.Drop, "tcp", ["80"], [])).Single());
        Assert.Contains("tcp dport 80", NftRuleset.RuleLines(Rule(FirewallDirection.Inbound, FirewallAction.Drop, "tcp", ["80"], [])).Single());
    }

    [Fact]
    public void Accept_returns_so_the_peer_chain_still_judges_and_reject_covers_tcp_and_the_rest()
    {
        Assert.EndsWith("counter return", NftRuleset.RuleLines(Rule(FirewallDirection.Inbound, FirewallAction.Accept, "any", [], [])).Single());
        var reject = NftRuleset.RuleLines(Rule(FirewallDirection.Inbound, FirewallAction.Reject, "any", [], [])).ToList();
        Assert.Equal(["meta l4proto tcp counter reject with tcp reset", "counter reject with icmpx type admin-prohibited"], reject);
    }

    [Fact]
    public void A_bridged_ve_is_held_to_its_mac_and_addresses_on_its_port()
    {
        var s = NftRuleset.Render("vz_t", [Ve()], []);
        Assert.Contains("iifname \"vz11111111222\" ether saddr != 00:1c:42:aa:bb:cc counter drop", s);
        Assert.Contains("iifname \"vz11111111222\" ether type ip ip saddr != 198.19.20.2 counter drop", s);
        Assert.Contains("ether saddr 00:1c:42:aa:bb:cc jump ve-111111112222-out", s);
        Assert.Contains("ip daddr 198.19.20.2 jump ve-111111112222-in", s);
    }

    [Fact]
    public void With_nothing_to_enforce_the_tables_are_only_deleted()
    {
        var ve = Ve() with { Settings = new FirewallSettings { Enabled = false } };
        Assert.Equal("table inet vz_t {}\ndelete table inet vz_t\ntable bridge vz_t {}\ndelete table bridge vz_t\n", NftRuleset.Render("vz_t", [ve], []));
    }

    [Fact]
    public void Private_networks_are_fenced_and_nat_masquerades_only_its_subnet()
    {
        var s = NftRuleset.Render("vz_t", [], [new NetworkFence("vzn-p1", null, true), new NetworkFence("vzn-h1", "198.19.21.0/24", false)]);
        Assert.Contains("iifname \"vzn-p1\" oifname != \"vzn-p1\" counter drop comment \"private:vzn-p1\"", s);
        Assert.Contains("iifname \"vzn-p1\" counter drop comment \"private:vzn-p1\"", s);
        Assert.Contains("ip saddr 198.19.21.0/24 ip daddr != 198.19.21.0/24 oifname != \"vzn-h1\" counter masquerade", s);
    }

    [Fact]
    public void The_rendered_script_is_valid_nft()
    {
        // nft -c parses and checks the script against the kernel without committing it; needs root and nft.
        if (Environment.UserName != "root" || !File.Exists("/usr/sbin/nft")) return;
        var s = NftRuleset.Render("vz_xunit_check", [Ve(
            Rule(FirewallDirection.Inbound, FirewallAction.Accept, "tcp", ["22", "8000-8080"], ["198.19.20.0/24", "fd00::/64"]),
            Rule(FirewallDirection.Outbound, FirewallAction.Reject, "any", [], ["198.19.21.0/24"]),
            Rule(FirewallDirection.Inbound, FirewallAction.Drop, "icmp", [], []))],
            [new NetworkFence("vzn-p1", null, true), new NetworkFence("vzn-h1", "198.19.21.0/24", false)]);
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/sbin/nft", "-c -f -") { RedirectStandardInput = true, RedirectStandardError = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.Write(s);
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err + "\n" + s);
    }
}
