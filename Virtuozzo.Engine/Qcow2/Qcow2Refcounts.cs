using System.Buffers.Binary;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>
/// The refcount table and its blocks: read any cluster's refcount, change it, and append fresh clusters at the
/// end of the file with their refcounts in place. Appending never overwrites anything in use, and new refcount
/// blocks (or a moved table) become visible only by a final atomic pointer write, so a crash at any point leaves
/// at worst leaked clusters, never a cluster in use with a refcount of zero.
/// </summary>
internal sealed class Qcow2Refcounts
{
    private readonly Qcow2Image image;
    private readonly Dictionary<long, byte[]> blocks = [];
    private readonly HashSet<long> dirty = [];
    private ulong[] table;

    public Qcow2Refcounts(Qcow2Image image)
    {
        this.image = image;
        var h = image.Header;
        table = image.ReadTable(h.RefcountTableOffset, h.RefcountTableClusters * h.ClusterSize / 8, "the refcount table");
        Order = h.RefcountOrder;
        EntriesPerBlock = h.ClusterSize * 8 / h.RefcountBits;
    }

    public int Order { get; }
    public long EntriesPerBlock { get; }
    public IReadOnlyList<ulong> Table => table;
    public ulong MaxRefcount => Order == 6 ? ulong.MaxValue : (1UL << (1 << Order)) - 1;

    /// <summary>Offset of the block for table index <paramref name="index"/>, 0 when none.</summary>
    public long BlockOffset(long index) => index < table.Length ? (long)(table[index] & Qcow2Image.RefTableOffsetMask) : 0;

    /// <summary>Forgets a table entry found invalid by a check (in memory only), so reads treat it as absent.</summary>
    public void Forget(long index) => table[index] = 0;

    /// <summary>The refcount of a cluster; 0 when no block covers it.</summary>
    public ulong Get(long cluster)
    {
        var block = LoadBlock(cluster / EntriesPerBlock);
        return block is null ? 0 : GetEntry(block, cluster % EntriesPerBlock, Order);
    }

    /// <summary>The block for table index <paramref name="index"/> (read on first use), or null when there is none.</summary>
    public byte[]? Block(long index) => LoadBlock(index);

    /// <summary>Sets a refcount in an existing block (held in memory until <see cref="WriteDirty"/>).</summary>
    public void Set(long cluster, ulong value)
    {
        var index = cluster / EntriesPerBlock;
        var block = LoadBlock(index) ?? throw new InvalidOperationException($"no refcount block covers cluster {cluster}");
        if (value > MaxRefcount) throw new InvalidOperationException($"refcount {value} overflows {1 << Order} bits");
        SetEntry(block, cluster % EntriesPerBlock, Order, value);
        dirty.Add(BlockOffset(index));
    }

    public void WriteDirty()
    {
        foreach (var offset in dirty) image.Write(offset, blocks[offset]);
        dirty.Clear();
    }

    private byte[]? LoadBlock(long index)
    {
        var offset = BlockOffset(index);
        if (offset == 0) return null;
        if (!blocks.TryGetValue(offset, out var block))
        {
            if ((offset & (image.ClusterSize - 1)) != 0)
                throw Qcow2Header.Corrupt(image.Path, $"refcount block {index} at offset {offset} is not cluster aligned");
            block = new byte[image.ClusterSize];
            image.ReadExact(offset, block, $"refcount block {index}");
            blocks[offset] = block;
        }
        return block;
    }

    /// <summary>
    /// Appends <paramref name="count"/> clusters at the end of the file with refcount 1 and returns the offset of
    /// the first. The caller writes their content afterwards and only then links them into the image.
    /// New refcount blocks and a new copy of the table that links them are appended after them, and one header
    /// write switches to that table; everything is flushed before this returns.
    /// </summary>
    public long Append(long count)
    {
        var cs = image.ClusterSize;
        var first = (image.FileLength + cs - 1) / cs;
        // Anything already counted at or past the end of the file (leaked clusters) is skipped over.
        while (Get(first) != 0) first++;

        long newBlocks = 0, tableClusters = 0;
        List<long> missing;
        while (true)
        {
            var total = count + newBlocks + tableClusters;
            var last = first + total - 1;
            missing = [];
            for (var bi = first / EntriesPerBlock; bi <= last / EntriesPerBlock; bi++)
                if (BlockOffset(bi) == 0) missing.Add(bi);
            var neededEntries = last / EntriesPerBlock + 1;
            // New blocks are linked by writing a whole new table and switching the header to it in one write:
            // entries written one by one into the old table could link a block before the block that counts it.
            var grow = neededEntries > table.Length;
            var neededTableClusters = missing.Count > 0 || grow
                ? Math.Max(table.Length * 8L / cs, (neededEntries * 8 + cs - 1) / cs) + (grow ? 1 : 0)
                : 0;
            if (missing.Count == newBlocks && neededTableClusters == tableClusters) break;
            newBlocks = missing.Count;
            tableClusters = neededTableClusters;
        }
        if (tableClusters * cs > Qcow2Header.MaxRefcountTableBytes)
            throw Qcow2Header.Corrupt(image.Path, "the refcount table would exceed its 8 MiB limit");

        var end = first + count + newBlocks + tableClusters;
        var blockStart = first + count;
        // New blocks: each counts the new clusters it covers (itself included).
        for (var i = 0; i < missing.Count; i++)
        {
            var bi = missing[i];
            var block = new byte[cs];
            for (var c = Math.Max(first, bi * EntriesPerBlock); c < Math.Min(end, (bi + 1) * EntriesPerBlock); c++)
                SetEntry(block, c % EntriesPerBlock, Order, 1);
            var offset = (blockStart + i) * cs;
            image.Write(offset, block);
            blocks[offset] = block;
        }
        // Existing blocks: count the new clusters they cover.
        var oldTable = table;
        var newTable = tableClusters > 0 ? new ulong[tableClusters * cs / 8] : table;
        if (tableClusters > 0) Array.Copy(table, newTable, table.Length);
        for (var i = 0; i < missing.Count; i++) newTable[missing[i]] = (ulong)((blockStart + i) * cs);
        for (var c = first; c < end; c++)
        {
            var bi = c / EntriesPerBlock;
            if (missing.Contains(bi)) continue;
            SetEntry(LoadBlock(bi)!, c % EntriesPerBlock, Order, 1);
            dirty.Add(BlockOffset(bi));
        }
        // Make sure the file covers every appended cluster even if the caller writes less than a full one.
        if (image.FileLength < end * cs) image.Write(end * cs - 1, [0]);
        WriteDirty();
        image.Flush();

        if (tableClusters > 0)
        {
            var tableOffset = (end - tableClusters) * cs;
            var bytes = new byte[tableClusters * cs];
            for (var i = 0; i < newTable.Length; i++) BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * 8), newTable[i]);
            image.Write(tableOffset, bytes);
            image.Flush();
            var oldOffset = image.Header.RefcountTableOffset;
            var oldClusters = image.Header.RefcountTableClusters;
            Span<byte> field = stackalloc byte[12];
            BinaryPrimitives.WriteUInt64BigEndian(field, (ulong)tableOffset);
            BinaryPrimitives.WriteUInt32BigEndian(field[8..], (uint)tableClusters);
            table = newTable;
            image.WriteHeaderField(48, field);
            // The old table is garbage now; a crash before this leaves only a leak.
            for (var c = oldOffset / cs; c < oldOffset / cs + oldClusters; c++) Set(c, Get(c) - 1);
            WriteDirty();
            image.Flush();
        }
        table = newTable;
        _ = oldTable;
        return first * cs;
    }

    /// <summary>Drops one reference from each cluster in [offset, offset+length), rounded out to clusters.</summary>
    public void Release(long offset, long length)
    {
        var cs = image.ClusterSize;
        for (var c = offset / cs; c <= (offset + length - 1) / cs; c++)
        {
            var v = Get(c);
            if (v == 0) throw Qcow2Header.Corrupt(image.Path, $"cluster {c} is in use but its refcount is already 0");
            Set(c, v - 1);
        }
    }

    public static ulong GetEntry(byte[] block, long index, int order)
    {
        switch (order)
        {
            case < 3:
                var bits = 1 << order;
                var perByte = 8 / bits;
                return (ulong)((block[index / perByte] >> (int)(index % perByte * bits)) & ((1 << bits) - 1));
            case 3: return block[index];
            case 4: return BinaryPrimitives.ReadUInt16BigEndian(block.AsSpan((int)(index * 2)));
            case 5: return BinaryPrimitives.ReadUInt32BigEndian(block.AsSpan((int)(index * 4)));
            default: return BinaryPrimitives.ReadUInt64BigEndian(block.AsSpan((int)(index * 8)));
        }
    }

    public static void SetEntry(byte[] block, long index, int order, ulong value)
    {
        switch (order)
        {
            case < 3:
                var bits = 1 << order;
                var perByte = 8 / bits;
                var shift = (int)(index % perByte * bits);
                var mask = ((1 << bits) - 1) << shift;
                ref var b = ref block[index / perByte];
                b = (byte)((b & ~mask) | (((int)value << shift) & mask));
                break;
            case 3: block[index] = (byte)value; break;
            case 4: BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan((int)(index * 2)), (ushort)value); break;
            case 5: BinaryPrimitives.WriteUInt32BigEndian(block.AsSpan((int)(index * 4)), (uint)value); break;
            default: BinaryPrimitives.WriteUInt64BigEndian(block.AsSpan((int)(index * 8)), value); break;
        }
    }
}
