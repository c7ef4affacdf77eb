using System.Globalization;
using System.Security.Cryptography;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Network;

/// <summary>
/// MAC addresses for VE NICs, containers' eth0 and VMs' virtio-net alike. A locally administered unicast address
/// would do, but Virtuozzo VEs carry the Parallels OUI 00:1C:42, with the three low bytes random.
/// </summary>
public static class MacAddresses
{
    public static string New()
    {
        Span<byte> b = stackalloc byte[3];
        RandomNumberGenerator.Fill(b);
        return $"00:1C:42:{b[0]:X2}:{b[1]:X2}:{b[2]:X2}";
    }

    /// <summary>
    /// A MAC for an added adapter: the Parallels OUI with the locally administered bit set (02:1C:42:..), so it can
    /// never be a vendor's burnt-in address, and not one of <paramref name="taken"/>.
    /// </summary>
    public static string NewLocal(IReadOnlyCollection<string> taken)
    {
        Span<byte> b = stackalloc byte[3];
        while (true)
        {
            RandomNumberGenerator.Fill(b);
            var mac = $"02:1C:42:{b[0]:X2}:{b[1]:X2}:{b[2]:X2}";
            if (!taken.Contains(mac, StringComparer.OrdinalIgnoreCase)) return mac;
        }
    }

    /// <summary>
    /// Checks a MAC given by a user and writes it as six upper-case pairs with colons ("-" separators are taken too).
    /// A multicast or all-zero address cannot be a NIC's: refused.
    /// </summary>
    public static string Normalize(string text, object? target)
    {
        var parts = (text ?? "").Trim().Split(':', '-');
        if (parts.Length != 6 || parts.Any(p => p.Length != 2 || !byte.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _)))
            throw new VzInvalidArgumentException("VzInvalidMacAddress", $"'{text}' is not a MAC address.", target, "MacAddress")
            { RecommendedAction = "Give six hex pairs, for example 02:1C:42:0A:0B:0C, or leave -MacAddress out to get a generated one." };
        var bytes = parts.Select(p => byte.Parse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
        if ((bytes[0] & 1) == 1)
            throw new VzInvalidArgumentException("VzMulticastMacAddress", $"'{text}' is a multicast MAC address (the low bit of its first byte is set); a NIC needs a unicast one.", target, "MacAddress")
            { RecommendedAction = "Use an address whose first byte is even, for example 02:1C:42:0A:0B:0C." };
        if (bytes.All(x => x == 0))
            throw new VzInvalidArgumentException("VzInvalidMacAddress", "00:00:00:00:00:00 is not a usable MAC address.", target, "MacAddress")
            { RecommendedAction = "Leave -MacAddress out to get a generated one." };
        return string.Join(':', bytes.Select(x => x.ToString("X2", CultureInfo.InvariantCulture)));
    }
}
