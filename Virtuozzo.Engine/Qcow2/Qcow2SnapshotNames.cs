using System.Buffers.Binary;
using System.Text;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>
/// Reads the internal snapshot names of a QCOW2 image (header fields nb_snapshots and snapshots_offset, then the
/// snapshot table) for tab completion and for telling which disks hold a snapshot tag. Every count, offset and length is bounded before use; anything odd
/// yields no names.
/// </summary>
public static class Qcow2SnapshotNames
{
    private const uint Magic = 0x514649FB; // "QFI\xfb"
    private const int MaxSnapshots = 65536; // QEMU's QCOW_MAX_SNAPSHOTS
    private const int MaxTableBytes = 1 << 20;

    public static IReadOnlyList<string> Read(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, FileOptions.None);
            Span<byte> header = stackalloc byte[72];
            if (file.Read(header) < header.Length || BinaryPrimitives.ReadUInt32BigEndian(header) != Magic) return [];
            var count = BinaryPrimitives.ReadUInt32BigEndian(header[60..]);
            var offset = BinaryPrimitives.ReadUInt64BigEndian(header[64..]);
            if (count == 0 || count > MaxSnapshots || offset == 0 || offset >= (ulong)file.Length) return [];
            var length = (int)Math.Min((ulong)MaxTableBytes, (ulong)file.Length - offset);
            var table = new byte[length];
            file.Position = (long)offset;
            file.ReadExactly(table);
            var names = new List<string>();
            var pos = 0;
            for (var i = 0; i < count; i++)
            {
                if (pos + 40 > table.Length) break;
                var entry = table.AsSpan(pos);
                int idSize = BinaryPrimitives.ReadUInt16BigEndian(entry[12..]);
                int nameSize = BinaryPrimitives.ReadUInt16BigEndian(entry[14..]);
                var extra = BinaryPrimitives.ReadUInt32BigEndian(entry[36..]);
                if (extra > 1024) break;
                var nameStart = 40 + (int)extra + idSize;
                var end = nameStart + nameSize;
                if (pos + end > table.Length) break;
                names.Add(Encoding.UTF8.GetString(entry.Slice(nameStart, nameSize)));
                pos += (end + 7) & ~7; // entries are padded to 8 bytes
            }
            return names;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException) { return []; }
    }
}
