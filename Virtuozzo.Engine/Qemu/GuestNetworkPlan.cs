using System.Net;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network;

namespace Virtuozzo.Engine.Qemu;

/// <summary>
/// The guest-exec steps that put <see cref="GuestNetworkSettings"/> into a Linux guest, checked before any runs.
/// Values reach the guest only as program arguments (a constant script with "$1"...), never spliced into a shell
/// line, so no address or host name can run anything. The tools are those every Linux guest has: iproute2's or
/// busybox's <c>ip</c>, <c>hostname</c>, udhcpc or dhclient. The change is live; the distribution's own network
/// files are not rewritten.
/// </summary>
public static class GuestNetworkPlan
{
    /// <summary>One program run in the guest, and what it is for (for the error if it fails).</summary>
    public sealed record Step(string Path, IReadOnlyList<string> Arguments, string Purpose);

    private const string HostNameScript = "hostname \"$1\" && printf '%s\\n' \"$1\" > /etc/hostname";
    private const string ResolvScript = "printf 'nameserver %s\\n' \"$@\" > /etc/resolv.conf";
    private const string DhcpScript =
        "ip addr flush dev \"$1\" && ip link set \"$1\" up || exit $?; " +
        "if command -v udhcpc >/dev/null 2>&1; then s=; [ -x /etc/udhcpc.script ] && s='-s /etc/udhcpc.script'; exec udhcpc -i \"$1\" -q -n -t 5 $s; " +
        "elif command -v dhclient >/dev/null 2>&1; then exec dhclient -1 \"$1\"; " +
        "else echo 'the guest has no DHCP client (udhcpc or dhclient)' >&2; exit 127; fi";

    public static IReadOnlyList<Step> For(GuestNetworkSettings s, string vmName)
    {
        var steps = new List<Step>();
        var needsInterface = s.Dhcp || s.IPAddress.Count > 0 || s.Gateway is not null;
        if (needsInterface && s.InterfaceName is null)
            throw Invalid("VzGuestInterfaceMissing", "InterfaceName", vmName, "Addresses, DHCP and a gateway are set on one guest interface; none was named.", "Give -InterfaceName (Get-VzVmGuestNetwork lists the guest's interfaces).");
        if (s.InterfaceName is { } iface) NetworkSetup.ValidateInterfaceName(iface, "InterfaceName");
        if (s.Dhcp && s.IPAddress.Count > 0)
            throw Invalid("VzConflictingGuestAddress", "Dhcp", vmName, "-Dhcp asks a DHCP server for the address, so it cannot go with -IPAddress.", "Give either -IPAddress or -Dhcp.");
        var addresses = s.IPAddress.Select(a => a.Contains('/') ? NetworkSetup.NormalizeAddress(a)
            : throw Invalid("VzInvalidIpAddress", "IPAddress", vmName, $"'{a}' has no prefix length.", "Give addresses in CIDR form, for example 198.19.60.10/24.")).ToList();
        if (s.Gateway is { } gw && !IPAddress.TryParse(gw, out _))
            throw Invalid("VzInvalidGateway", "Gateway", vmName, $"'{gw}' is not an IP address.", "Give the gateway as an IP address.");
        foreach (var ns in s.Nameserver)
            if (!IPAddress.TryParse(ns, out _))
                throw Invalid("VzInvalidNameserver", "Nameserver", vmName, $"'{ns}' is not an IP address.", "Give DNS servers as IP addresses.");
        if (s.HostName is { } hn && !Containers.ContainerConfigurator.HostnamePattern().IsMatch(hn))
            throw Invalid("VzInvalidHostname", "HostName", vmName, $"'{hn}' is not a valid hostname.", "Use letters, digits and '-', with dots between labels (for example db01.example.com).");

        if (s.HostName is { } name) steps.Add(new("sh", ["-c", HostNameScript, "sh", name], $"set the host name to {name}"));
        if (s.Dhcp) steps.Add(new("sh", ["-c", DhcpScript, "sh", s.InterfaceName!], $"get an address for {s.InterfaceName} by DHCP"));
        if (addresses.Count > 0)
        {
            steps.Add(new("ip", ["addr", "flush", "dev", s.InterfaceName!], $"clear the addresses of {s.InterfaceName}"));
            foreach (var a in addresses) steps.Add(new("ip", ["addr", "add", a, "dev", s.InterfaceName!], $"add {a} to {s.InterfaceName}"));
            steps.Add(new("ip", ["link", "set", s.InterfaceName!, "up"], $"bring {s.InterfaceName} up"));
        }
        if (s.Gateway is { } g) steps.Add(new("ip", ["route", "replace", "default", "via", g, "dev", s.InterfaceName!], $"route by default through {g}"));
        if (s.Nameserver.Count > 0) steps.Add(new("sh", ["-c", ResolvScript, "sh", .. s.Nameserver], "write /etc/resolv.conf"));
        if (steps.Count == 0)
            throw Invalid("VzNothingToSet", "IPAddress", vmName, "Nothing to change was given.", "Give -IPAddress, -Dhcp, -Gateway, -Nameserver or -HostName.");
        return steps;
    }

    /// <summary>Default gateways per interface from the guest's /proc/net/route (hex, little-endian IPv4).</summary>
    public static IReadOnlyDictionary<string, string> DefaultGateways(string procNetRoute)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in procNetRoute.Split('\n').Skip(1))
        {
            var f = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 3 || f[1] != "00000000" || f[2].Length != 8) continue;
            if (!uint.TryParse(f[2], System.Globalization.NumberStyles.HexNumber, null, out var raw) || raw == 0) continue;
            // The kernel prints the network-order address as a native (x86: little-endian) word: lowest byte first.
            result.TryAdd(f[0], new IPAddress([(byte)raw, (byte)(raw >> 8), (byte)(raw >> 16), (byte)(raw >> 24)]).ToString());
        }
        return result;
    }

    /// <summary>The nameserver lines of a resolv.conf.</summary>
    public static IReadOnlyList<string> Nameservers(string resolvConf) =>
        resolvConf.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("nameserver", StringComparison.Ordinal))
            .Select(l => l["nameserver".Length..].Trim()).Where(v => IPAddress.TryParse(v, out _)).ToList();

    private static VzInvalidArgumentException Invalid(string id, string parameter, string target, string message, string action) =>
        new(id, message, target, parameter) { RecommendedAction = action };
}
