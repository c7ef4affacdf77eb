using System.Security.Cryptography;

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
}
