using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>How many guest clusters of the active image have data in this file (standard or compressed) and how
/// many are explicit zero clusters. One read of the L1 table and of each L2 table it points to.</summary>
public sealed record Qcow2AllocationMap(long AllocatedClusters, long CompressedClusters, long ZeroClusters, long ClusterSize)
{
    /// <summary>Guest bytes whose data lives in this file (clusters times cluster size).</summary>
    public long AllocatedBytes => AllocatedClusters * ClusterSize;

    public static Qcow2AllocationMap Compute(Qcow2Image image, CancellationToken cancellationToken = default)
    {
        var h = image.Header;
        var l1 = image.ReadL1();
        long allocated = 0, compressed = 0, zero = 0;
        var guestClusters = (h.Size + h.ClusterSize - 1) / h.ClusterSize;
        var usedL1 = Math.Min(l1.Length, Qcow2Header.L1EntriesFor(h.Size, h.ClusterBits, h.ExtendedL2));
        // Entries are compared in file byte order: the masks are swapped once instead of every entry.
        var dataMask = ToFileOrder(Qcow2Image.OffsetMask | Qcow2Image.FlagCompressed);
        var compressedBit = ToFileOrder(Qcow2Image.FlagCompressed);
        var zeroBit = ToFileOrder(Qcow2Image.FlagZero);
        var buffer = ArrayPool<byte>.Shared.Rent((int)h.ClusterSize);
        try
        {
            for (var i = 0; i < usedL1; i++)
            {
                var l2Offset = (long)(l1[i] & Qcow2Image.OffsetMask);
                if (l2Offset == 0) continue;
                cancellationToken.ThrowIfCancellationRequested();
                var entries = Math.Min(h.L2Entries, guestClusters - i * h.L2Entries);
                var bytes = buffer.AsSpan(0, (int)(entries * h.L2EntrySize));
                if ((l2Offset & (h.ClusterSize - 1)) != 0) throw Qcow2Header.Corrupt(image.Path, $"an L2 table at offset {l2Offset} is not cluster aligned");
                image.ReadExact(l2Offset, bytes, "an L2 table");
                if (bytes.IndexOfAnyExcept((byte)0) < 0) continue;
                var words = MemoryMarshal.Cast<byte, ulong>(bytes);
                var stride = h.L2EntrySize / 8;
                for (var j = 0; j < words.Length; j += stride)
                {
                    var e = words[j];
                    if ((e & dataMask) != 0) { allocated++; if ((e & compressedBit) != 0) compressed++; }
                    else if ((e & zeroBit) != 0) zero++;
                }
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
        return new Qcow2AllocationMap(allocated, compressed, zero, h.ClusterSize);
    }

    private static ulong ToFileOrder(ulong value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;
}
