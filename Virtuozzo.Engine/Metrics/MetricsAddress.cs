using System.Net;
using System.Net.Sockets;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Metrics;

/// <summary>Parses and checks the endpoint's address: "127.0.0.1:9784", "[::1]:9784", "localhost:9784", "0.0.0.0:9784".</summary>
public static class MetricsAddress
{
    public static IPEndPoint Parse(string text)
    {
        var t = text.Trim();
        var colon = t.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(t.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
            throw Invalid(text, "has no port between 1 and 65535 after the last ':'");
        var host = t[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        else if (host.Contains(':')) throw Invalid(text, "is an IPv6 address without brackets");
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return new IPEndPoint(IPAddress.Loopback, port);
        if (!IPAddress.TryParse(host, out var ip) || (ip.AddressFamily == AddressFamily.InterNetwork && host.Count(c => c == '.') != 3))
            throw Invalid(text, "does not name an IP address (or localhost)");
        return new IPEndPoint(ip, port);
    }

    /// <summary>The address in the form the settings keep.</summary>
    public static string Format(IPEndPoint endpoint) =>
        endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]:{endpoint.Port}" : $"{endpoint.Address}:{endpoint.Port}";

    /// <summary>True for loopback addresses: only processes on this host reach them.</summary>
    public static bool IsLocal(IPEndPoint endpoint) => IPAddress.IsLoopback(endpoint.Address);

    /// <summary>Refuses an address other hosts reach unless <paramref name="allowRemote"/>: the endpoint has no authentication.</summary>
    public static void CheckScope(IPEndPoint endpoint, bool allowRemote)
    {
        if (allowRemote || IsLocal(endpoint)) return;
        throw new VzInvalidArgumentException("VzMetricsAddressNotLocal",
            $"The metrics address {Format(endpoint)} is reachable from other hosts, and the endpoint has no authentication.", Format(endpoint), "MetricsAddress")
        { RecommendedAction = "Use a loopback address (127.0.0.1:9784), or add -AllowRemoteMetrics to expose it on purpose (and firewall it)." };
    }

    /// <summary>Binds the address for a moment: the error a listener would meet, as a typed exception, before anything is saved.</summary>
    public static void CheckFree(IPEndPoint endpoint)
    {
        using var socket = Bind(endpoint);
    }

    /// <summary>A listening socket on <paramref name="endpoint"/>; in use or not an address of this host are typed errors.</summary>
    public static Socket Bind(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            socket.Listen(64);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            if (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
                throw new VzUnavailableException("VzMetricsAddressInUse", $"The metrics address {Format(endpoint)} is already in use by another program.", Format(endpoint))
                { RecommendedAction = "Pick a free port with Set-VzHost -MetricsAddress (see ss -ltnp for what listens where)." };
            throw new VzUnavailableException("VzMetricsAddressUnavailable", $"The metrics address {Format(endpoint)} cannot be listened on: {ex.Message}.", Format(endpoint))
            { RecommendedAction = "Use an address of this host (ip -br addr) or a loopback address." };
        }
    }

    private static VzInvalidArgumentException Invalid(string text, string why) =>
        new("VzInvalidMetricsAddress", $"The metrics address '{text}' {why}.", text, "MetricsAddress")
        { RecommendedAction = "Give host:port, for example 127.0.0.1:9784 or [::1]:9784." };
}
