using System.Buffers.Binary;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>How many guest clusters of the active image have data in this file (standard or compressed) and how
/// many are explicit zero clusters. One read of the L1 table and of each distinct L2 table.</summary>
public sealed record Qcow2AllocationMap(long AllocatedClusters, long CompressedClusters, long ZeroClusters, long ClusterSize)
{
    /// <summary>Guest bytes whose data lives in this file (clusters times cluster size).</summary>
    public long AllocatedBytes => AllocatedClusters * ClusterSize;

    public static Qcow2AllocationMap Compute(Qcow2Image image, CancellationToken cancellationToken = default)
    {
        var h = image.Header;
        var l1 = image.ReadL1();
        var buffer = new byte[h.ClusterSize];
        long allocated = 0, compressed = 0, zero = 0;
        var guestClusters = (h.Size + h.ClusterSize - 1) / h.ClusterSize;
        var usedL1 = Math.Min(l1.Length, Qcow2Header.L1EntriesFor(h.Size, h.ClusterBits, h.ExtendedL2));
        for (var i = 0; i < usedL1; i++)
        {
            var l2Offset = (long)(l1[i] & Qcow2Image.OffsetMask);
            if (l2Offset == 0) continue;
            cancellationToken.ThrowIfCancellationRequested();
            image.ReadL2(l2Offset, buffer);
            var entries = Math.Min(h.L2Entries, guestClusters - i * h.L2Entries);
            for (var j = 0; j < entries; j++)
            {
                var entry = BinaryPrimitives.ReadUInt64BigEndian(buffer.AsSpan((int)(j * h.L2EntrySize)));
                if ((entry & Qcow2Image.FlagCompressed) != 0) { allocated++; compressed++; }
                else if ((entry & Qcow2Image.OffsetMask) != 0) allocated++;
                else if ((entry & Qcow2Image.FlagZero) != 0) zero++;
            }
        }
        return new Qcow2AllocationMap(allocated, compressed, zero, h.ClusterSize);
    }
}
