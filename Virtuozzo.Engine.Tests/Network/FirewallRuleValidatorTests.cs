using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network.Firewall;
using Xunit;

namespace Virtuozzo.Engine.Tests.Network;

/// <summary>Bad rules are typed errors before anything reaches nft; good ones come out normalized.</summary>
public sealed class FirewallRuleValidatorTests
{
    private static FirewallRule Rule(string protocol = "tcp", string[]? local = null, string[]? remote = null, string name = "r1") => new()
    {
        Name = name, Protocol = protocol, LocalPorts = [.. local ?? []], RemoteAddresses = [.. remote ?? []],
    };

    [Theory]
    [InlineData("70000")]
    [InlineData("0")]
    [InlineData("80-20")]
    [InlineData("http")]
    [InlineData("-5")]
    public void Bad_ports_are_refused(string port)
    {
        var e = Assert.Throws<VzInvalidArgumentException>(() => FirewallRuleValidator.Normalize(Rule(local: [port])));
        Assert.Equal("VzInvalidFirewallPort", e.ErrorId);
    }

    [Theory]
    [InlineData("198.19.20.0/33")]
    [InlineData("198.19.20/24")]
    [InlineData("300.1.1.1")]
    [InlineData("198.19.20.0/-1")]
    [InlineData("fd00::/129")]
    public void Bad_cidrs_are_refused(string cidr)
    {
        var e = Assert.Throws<VzInvalidArgumentException>(() => FirewallRuleValidator.Normalize(Rule(remote: [cidr])));
        Assert.Equal("VzInvalidFirewallAddress", e.ErrorId);
    }

    [Theory]
    [InlineData("tpc")]
    [InlineData("sctp")]
    [InlineData("tcp; flush ruleset")]
    public void Unknown_protocols_are_refused(string protocol)
    {
        var e = Assert.Throws<VzInvalidArgumentException>(() => FirewallRuleValidator.Normalize(Rule(protocol)));
        Assert.Equal("VzInvalidFirewallProtocol", e.ErrorId);
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("x\"; flush ruleset")]
    [InlineData("")]
    public void Rule_names_that_could_break_out_of_a_comment_are_refused(string name) =>
        Assert.Equal("VzInvalidFirewallRuleName", Assert.Throws<VzInvalidArgumentException>(() => FirewallRuleValidator.Normalize(Rule(name: name))).ErrorId);

    [Fact]
    public void Ports_without_tcp_or_udp_are_refused() =>
        Assert.Equal("VzFirewallPortsNeedProtocol", Assert.Throws<VzInvalidArgumentException>(() => FirewallRuleValidator.Normalize(Rule("icmp", local: ["22"]))).ErrorId);

    [Fact]
    public void Icmp_with_an_ipv6_address_is_refused() =>
        Assert.Equal("VzFirewallFamilyMismatch", Assert.Throws<VzInvalidArgumentException>(() => FirewallRuleValidator.Normalize(Rule("icmp", remote: ["fd00::1"]))).ErrorId);

    [Fact]
    public void Values_are_normalized()
    {
        var r = FirewallRuleValidator.Normalize(Rule("TCP", local: ["22", " 8000-8080", "443-443"], remote: ["198.19.20.7/24", "fd00::5/64", "198.19.21.9"]));
        Assert.Equal("tcp", r.Protocol);
        Assert.Equal(["22", "8000-8080", "443"], r.LocalPorts);
        Assert.Equal(["198.19.20.0/24", "fd00::/64", "198.19.21.9/32"], r.RemoteAddresses);
    }
}
