using System.Buffers.Binary;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>
/// Changes the virtual size of a closed qcow2 image in place.
/// Grow: a bigger L1 table (when needed) is appended and refcounted first, then one atomic header write switches
/// size, L1 size and L1 offset together, and only then is the old L1 freed. A crash before the switch leaves the
/// old image plus leaked clusters; after it, the new image plus at most leaked clusters.
/// Shrink: refused while any data cluster lies at or past the new end; otherwise the header size is written first
/// and the L2 tables past the end are unlinked and freed afterwards.
/// </summary>
public static class Qcow2Resizer
{
    /// <summary>Resizes; <paramref name="backingVirtualSize"/> reads the backing file's virtual size (null when unreadable).</summary>
    public static void Resize(Qcow2Image image, long newSize, bool allowShrink, Func<string, long?> backingVirtualSize, CancellationToken cancellationToken = default)
    {
        var h = image.Header;
        var path = image.Path;
        if (newSize < 0 || newSize % 512 != 0)
            throw new VzInvalidArgumentException("VzDiskInvalidSize", $"The new size {newSize} is not a non-negative multiple of 512 bytes.", path, "Size");
        if (h.SnapshotCount > 0) throw new VzDiskUnsupportedException(path, "internal snapshots", "resize");
        if (h.HasBitmaps) throw new VzDiskUnsupportedException(path, "persistent dirty bitmaps", "resize");
        if (h.CryptMethod != 0) throw new VzDiskUnsupportedException(path, "encryption", "resize");
        if (h.IsCorrupt || h.IsDirty)
            throw new VzInvalidStateException("VzDiskNotClean", $"The disk image '{path}' is marked {(h.IsCorrupt ? "corrupt" : "dirty (not closed cleanly)")}.", path)
            { RecommendedAction = "Run 'Test-VzDisk -Repair' (or 'qemu-img check -r all') first." };
        if (newSize == h.Size) return;
        if (newSize < h.Size && !allowShrink)
            throw new VzInvalidArgumentException("VzDiskShrinkNotAllowed", $"{newSize} bytes is smaller than the current size {h.Size}; shrinking needs -Shrink.", path, "Size");
        var needL1 = Qcow2Header.L1EntriesFor(newSize, h.ClusterBits, h.ExtendedL2);
        if (needL1 * 8 > Qcow2Header.MaxL1Bytes)
            throw new VzInvalidArgumentException("VzDiskSizeOutOfRange", $"{newSize} bytes is too large for {h.ClusterSize}-byte clusters.", path, "Size");

        // Only a consistent image is changed: the allocator trusts the refcounts.
        var check = Qcow2Checker.Check(image, repairLeaks: false, cancellationToken);
        if (check.Corruptions > 0 || check.CheckErrors > 0)
            throw new VzInvalidStateException("VzDiskNotClean", $"The disk image '{path}' has {check.Corruptions} corruptions; it is not resized.", path)
            { RecommendedAction = "Run 'Test-VzDisk' to see them and 'qemu-img check -r all' to repair." };

        if (newSize > h.Size) Grow(image, newSize, needL1, backingVirtualSize);
        else Shrink(image, newSize, needL1, cancellationToken);
    }

    private static void Grow(Qcow2Image image, long newSize, long needL1, Func<string, long?> backingVirtualSize)
    {
        var h = image.Header;
        if (h.BackingFile is { } backing)
        {
            var backingSize = backingVirtualSize(backing);
            if (backingSize is null || backingSize > h.Size)
                throw new VzDiskUnsupportedException(image.Path, "a backing file larger than the disk (its data would show through the grown area)", "grow");
        }
        ZeroTail(image, h.Size);

        var cs = h.ClusterSize;
        Span<byte> field = stackalloc byte[24];
        if (needL1 <= h.L1Size)
        {
            BinaryPrimitives.WriteUInt64BigEndian(field, (ulong)newSize);
            image.WriteHeaderField(24, field[..8]);
            return;
        }
        var oldClusters = ((long)h.L1Size * 8 + cs - 1) / cs;
        if (h.L1Size > 0 && needL1 * 8 <= oldClusters * cs)
        {
            // The new entries fit in the clusters the table already owns: make sure they read as empty.
            image.Write(h.L1TableOffset + (long)h.L1Size * 8, new byte[(needL1 - h.L1Size) * 8]);
            image.Flush();
            WriteSizeAndL1(image, newSize, needL1, h.L1TableOffset);
            return;
        }
        var refcounts = new Qcow2Refcounts(image);
        var newClusters = (needL1 * 8 + cs - 1) / cs;
        var old = image.ReadL1();
        var table = new byte[newClusters * cs];
        for (var i = 0; i < old.Length; i++) BinaryPrimitives.WriteUInt64BigEndian(table.AsSpan(i * 8), old[i]);
        var newOffset = refcounts.Append(newClusters);
        image.Write(newOffset, table);
        image.Flush();
        var oldOffset = h.L1TableOffset;
        var oldSize = h.L1Size;
        WriteSizeAndL1(image, newSize, needL1, newOffset);
        if (oldSize > 0)
        {
            refcounts.Release(oldOffset, (long)oldSize * 8);
            refcounts.WriteDirty();
            image.Flush();
        }
    }

    private static void Shrink(Qcow2Image image, long newSize, long needL1, CancellationToken ct)
    {
        var h = image.Header;
        var cs = h.ClusterSize;
        var l1 = image.ReadL1();
        var firstGone = (newSize + cs - 1) / cs; // first guest cluster wholly past the new end
        var buffer = new byte[cs];
        for (long i = firstGone / h.L2Entries; i < l1.Length; i++)
        {
            var l2 = (long)(l1[i] & Qcow2Image.OffsetMask);
            if (l2 == 0) continue;
            ct.ThrowIfCancellationRequested();
            image.ReadL2(l2, buffer);
            for (var j = 0L; j < h.L2Entries; j++)
            {
                var guest = i * h.L2Entries + j;
                if (guest < firstGone) continue;
                var entry = BinaryPrimitives.ReadUInt64BigEndian(buffer.AsSpan((int)(j * h.L2EntrySize)));
                if ((entry & Qcow2Image.FlagCompressed) != 0 || (entry & Qcow2Image.OffsetMask) != 0)
                    throw new VzInvalidStateException("VzDiskShrinkWouldLoseData",
                        $"The disk '{image.Path}' holds data at guest offset {guest * cs}, past the new end {newSize}; shrinking would lose it.", image.Path)
                    { RecommendedAction = "Shrink the file system and partitions inside the disk first, then compact it with Optimize-VzDisk, or choose a larger size." };
            }
        }
        ZeroTail(image, newSize);
        Span<byte> field = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(field, (ulong)newSize);
        image.WriteHeaderField(24, field);

        // L2 tables wholly past the end are now unreachable: unlink, then free them.
        var refcounts = new Qcow2Refcounts(image);
        var freed = new List<long>();
        for (var i = needL1; i < l1.Length; i++)
        {
            var l2 = (long)(l1[i] & Qcow2Image.OffsetMask);
            if (l2 == 0) continue;
            image.Write(h.L1TableOffset + i * 8, new byte[8]);
            freed.Add(l2);
        }
        if (freed.Count == 0) return;
        image.Flush();
        foreach (var l2 in freed) refcounts.Release(l2, cs);
        refcounts.WriteDirty();
        image.Flush();
    }

    /// <summary>
    /// The bytes of the last, partial cluster past <paramref name="size"/> must read as zero, or growing later
    /// would bring old data back into view.
    /// </summary>
    private static void ZeroTail(Qcow2Image image, long size)
    {
        var h = image.Header;
        var cs = h.ClusterSize;
        var within = size % cs;
        if (within == 0) return;
        var guest = size / cs;
        var l1Index = guest / h.L2Entries;
        var l1 = image.ReadL1();
        if (l1Index >= l1.Length) return;
        var l2 = (long)(l1[l1Index] & Qcow2Image.OffsetMask);
        if (l2 == 0) return;
        Span<byte> entryBytes = stackalloc byte[8];
        image.ReadExact(l2 + guest % h.L2Entries * h.L2EntrySize, entryBytes, "an L2 entry");
        var entry = BinaryPrimitives.ReadUInt64BigEndian(entryBytes);
        if ((entry & Qcow2Image.FlagCompressed) != 0)
            throw new VzDiskUnsupportedException(image.Path, "a compressed cluster across the end of the disk", "resize");
        var host = (long)(entry & Qcow2Image.OffsetMask);
        if (host == 0) return;
        image.Write(host + within, new byte[cs - within]);
        image.Flush();
    }

    private static void WriteSizeAndL1(Qcow2Image image, long newSize, long l1Size, long l1Offset)
    {
        // Bytes 24..47: size, crypt_method (kept), l1_size, l1_table_offset — one write inside sector 0.
        Span<byte> field = stackalloc byte[24];
        BinaryPrimitives.WriteUInt64BigEndian(field, (ulong)newSize);
        BinaryPrimitives.WriteUInt32BigEndian(field[8..], (uint)image.Header.CryptMethod);
        BinaryPrimitives.WriteUInt32BigEndian(field[12..], (uint)l1Size);
        BinaryPrimitives.WriteUInt64BigEndian(field[16..], (ulong)l1Offset);
        image.WriteHeaderField(24, field);
    }
}
