using System.Security.Cryptography;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// SHA-512 crypt (<c>$6$salt$hash</c>, Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512", the default
/// rounds), as glibc's crypt() and /etc/shadow use it. The engine hashes a container user's password itself and hands
/// the guest's <c>chpasswd -e</c> only the hash, so the password never leaves this process in any form that could be
/// logged, and any byte sequence (quotes, backslashes, line breaks, non-ASCII) can be a password.
/// </summary>
public static class Sha512Crypt
{
    private const string Alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int Rounds = 5000;

    /// <summary>16 random salt characters from the crypt alphabet.</summary>
    public static string NewSalt() => RandomNumberGenerator.GetString(Alphabet, 16);

    /// <summary>The <c>$6$salt$hash</c> string for <paramref name="password"/> (UTF-8 bytes). Salt is cut to 16 characters, as crypt() does.</summary>
    public static string Hash(ReadOnlySpan<byte> password, string salt)
    {
        if (salt.Length > 16) salt = salt[..16];
        if (salt.IndexOfAny(['$', ':', '\n']) >= 0) throw new ArgumentException("A crypt salt cannot hold '$', ':' or a line break.", nameof(salt));
        var s = System.Text.Encoding.ASCII.GetBytes(salt);
        var p = password.ToArray();
        try
        {
            var b = Sha(p, s, p);
            using var a = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
            a.AppendData(p); a.AppendData(s);
            AppendRepeated(a, b, p.Length);
            for (var n = p.Length; n > 0; n >>= 1) a.AppendData((n & 1) != 0 ? b : p);
            var digest = a.GetHashAndReset();

            using var dp = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
            for (var i = 0; i < p.Length; i++) dp.AppendData(p);
            var pBytes = Stretch(dp.GetHashAndReset(), p.Length);
            using var ds = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
            for (var i = 0; i < 16 + digest[0]; i++) ds.AppendData(s);
            var sBytes = Stretch(ds.GetHashAndReset(), s.Length);

            using var c = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
            for (var r = 0; r < Rounds; r++)
            {
                c.AppendData((r & 1) != 0 ? pBytes : digest);
                if (r % 3 != 0) c.AppendData(sBytes);
                if (r % 7 != 0) c.AppendData(pBytes);
                c.AppendData((r & 1) != 0 ? digest : pBytes);
                digest = c.GetHashAndReset();
            }
            Array.Clear(pBytes);
            return $"$6${salt}${Encode(digest)}";
        }
        finally { Array.Clear(p); }
    }

    private static byte[] Sha(params byte[][] parts)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        foreach (var part in parts) h.AppendData(part);
        return h.GetHashAndReset();
    }

    private static void AppendRepeated(IncrementalHash h, byte[] block, int length)
    {
        for (; length > block.Length; length -= block.Length) h.AppendData(block);
        h.AppendData(block, 0, length);
    }

    private static byte[] Stretch(byte[] block, int length)
    {
        var r = new byte[length];
        for (var i = 0; i < length; i++) r[i] = block[i % block.Length];
        return r;
    }

    /// <summary>crypt's own base64: bytes taken in (k, k+21, k+42) triples, rotated by k mod 3, least significant 6 bits first.</summary>
    private static string Encode(byte[] d)
    {
        var sb = new System.Text.StringBuilder(86);
        void Put(int b2, int b1, int b0, int n)
        {
            var w = (b2 << 16) | (b1 << 8) | b0;
            for (var i = 0; i < n; i++, w >>= 6) sb.Append(Alphabet[w & 0x3f]);
        }
        for (var k = 0; k < 21; k++)
        {
            int x = d[k], y = d[k + 21], z = d[k + 42];
            switch (k % 3)
            {
                case 0: Put(x, y, z, 4); break;
                case 1: Put(y, z, x, 4); break;
                default: Put(z, x, y, 4); break;
            }
        }
        Put(0, 0, d[63], 2);
        return sb.ToString();
    }
}
