using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Network.Firewall;

/// <summary>
/// Checks and normalizes a rule before it reaches the store or nft: everything that nft would reject, and
/// everything that would make the rendered rule wider than written, is a typed error here, so a bad rule never
/// costs a failed transaction.
/// </summary>
public static partial class FirewallRuleValidator
{
    /// <summary>The protocols a rule can name; "any" matches every protocol.</summary>
    public static readonly IReadOnlyList<string> Protocols = ["any", "tcp", "udp", "icmp", "icmpv6"];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex RuleNamePattern();

    public static FirewallRule Normalize(FirewallRule rule)
    {
        if (!RuleNamePattern().IsMatch(rule.Name))
            throw new VzInvalidArgumentException("VzInvalidFirewallRuleName", $"'{rule.Name}' is not a valid firewall rule name.", rule.Name, "Name")
            { RecommendedAction = "Use 1-64 letters, digits, '.', '-' or '_', starting with a letter or digit (for example 'allow-ssh')." };
        var protocol = rule.Protocol.Trim().ToLowerInvariant();
        if (!Protocols.Contains(protocol))
            throw new VzInvalidArgumentException("VzInvalidFirewallProtocol", $"'{rule.Protocol}' is not a protocol a firewall rule can name.", rule.Protocol, "Protocol")
            { RecommendedAction = $"Use one of: {string.Join(", ", Protocols)}." };
        var local = rule.LocalPorts.Select(p => NormalizePort(p, "LocalPort")).Distinct().ToList();
        var remote = rule.RemotePorts.Select(p => NormalizePort(p, "RemotePort")).Distinct().ToList();
        if ((local.Count > 0 || remote.Count > 0) && protocol is not ("tcp" or "udp"))
            throw new VzInvalidArgumentException("VzFirewallPortsNeedProtocol", $"Ports need protocol tcp or udp; the rule '{rule.Name}' has protocol '{protocol}'.", rule.Name, "Protocol")
            { RecommendedAction = "Add -Protocol Tcp or -Protocol Udp, or leave the ports out." };
        var addresses = rule.RemoteAddresses.Select(NormalizeNetwork).Distinct().ToList();
        if (protocol == "icmp" && addresses.Any(a => a.Contains(':')))
            throw new VzInvalidArgumentException("VzFirewallFamilyMismatch", $"The rule '{rule.Name}' names ICMP (IPv4) with an IPv6 remote address.", rule.Name, "RemoteAddress")
            { RecommendedAction = "Use -Protocol Icmpv6 for IPv6 addresses, or make two rules." };
        if (protocol == "icmpv6" && addresses.Any(a => !a.Contains(':')))
            throw new VzInvalidArgumentException("VzFirewallFamilyMismatch", $"The rule '{rule.Name}' names ICMPv6 with an IPv4 remote address.", rule.Name, "RemoteAddress")
            { RecommendedAction = "Use -Protocol Icmp for IPv4 addresses, or make two rules." };
        return new FirewallRule
        {
            Name = rule.Name, Direction = rule.Direction, Action = rule.Action, Protocol = protocol,
            LocalPorts = local, RemotePorts = remote, RemoteAddresses = addresses,
        };
    }

    /// <summary>"80" or "8000-8080", each port 1-65535, a range low to high.</summary>
    public static string NormalizePort(string text, string parameterName)
    {
        var t = text.Trim();
        var dash = t.IndexOf('-');
        if (dash < 0 && ParsePort(t, out var single)) return single.ToString();
        if (dash > 0 && ParsePort(t[..dash], out var low) && ParsePort(t[(dash + 1)..], out var high) && low <= high)
            return low == high ? $"{low}" : $"{low}-{high}";
        throw new VzInvalidArgumentException("VzInvalidFirewallPort", $"'{text}' is not a port (1-65535) or a port range (low-high).", text, parameterName)
        { RecommendedAction = "Give a port such as 443 or a range such as 8000-8080." };
    }

    /// <summary>An address or network in CIDR form, host bits cleared ("198.19.20.7/24" becomes "198.19.20.0/24").</summary>
    public static string NormalizeNetwork(string text)
    {
        var t = text.Trim();
        var slash = t.IndexOf('/');
        var addrText = slash < 0 ? t : t[..slash];
        if (!IPAddress.TryParse(addrText, out var addr) || (addr.AddressFamily == AddressFamily.InterNetwork && addrText.Count(c => c == '.') != 3))
            throw BadCidr(text, "is not an IP address");
        var max = addr.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        var prefix = max;
        if (slash >= 0 && (!int.TryParse(t[(slash + 1)..], System.Globalization.NumberStyles.None, null, out prefix) || prefix > max))
            throw BadCidr(text, $"has a prefix length outside 0-{max}");
        var bytes = addr.GetAddressBytes();
        for (var bit = prefix; bit < bytes.Length * 8; bit++) bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return $"{new IPAddress(bytes)}/{prefix}";
    }

    private static bool ParsePort(string s, out int port) =>
        int.TryParse(s, System.Globalization.NumberStyles.None, null, out port) && port is >= 1 and <= 65535;

    private static VzInvalidArgumentException BadCidr(string text, string why) =>
        new("VzInvalidFirewallAddress", $"'{text}' {why}.", text, "RemoteAddress")
        { RecommendedAction = "Give an address or network in CIDR form, for example 198.19.20.0/24 or 2001:db8::/64." };
}
