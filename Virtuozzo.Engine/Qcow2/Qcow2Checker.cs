using System.Buffers.Binary;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>
/// Recomputes every cluster's reference count from the metadata (header, L1/L2 tables of the active image and of
/// internal snapshots, refcount structures, snapshot table) and compares it with the stored refcounts, as
/// <c>qemu-img check</c> does. Also checks the COPIED flags and that every pointer is aligned and inside the file.
/// Memory is one counter per cluster of the file; time is one pass over the tables.
/// </summary>
internal sealed class Qcow2Checker
{
    /// <summary>Above this many clusters the per-cluster counters would take more than 256 MiB: refused.</summary>
    public const long MaxClusters = 1L << 26;
    private const int MaxMessages = 200;
    private const ulong L1Reserved = 0x7F00_0000_0000_01FFUL;
    private const ulong L2StandardReserved = 0x3F00_0000_0000_01FEUL;
    private const ulong RefTableReserved = 0x1FFUL;

    private readonly Qcow2Image image;
    private readonly Qcow2Refcounts refcounts;
    private readonly long clusterSize;
    private readonly long nbClusters;
    private readonly uint[] computed;
    private readonly List<string> messages = [];
    private long corruptions, leaks, checkErrors, allocated, fragmented, compressed, nextContiguous;

    private Qcow2Checker(Qcow2Image image)
    {
        this.image = image;
        var h = image.Header;
        if (h.CryptMethod != 0 || h.HasEncryptionHeader) throw new VzDiskUnsupportedException(image.Path, "encryption", "check");
        if (h.HasBitmaps) throw new VzDiskUnsupportedException(image.Path, "persistent dirty bitmaps", "check");
        clusterSize = h.ClusterSize;
        nbClusters = (image.FileLength + clusterSize - 1) / clusterSize;
        if (nbClusters > MaxClusters) throw new VzDiskUnsupportedException(image.Path, $"{nbClusters} clusters (more than {MaxClusters})", "check");
        // qemu tolerates a reference that ends less than one cluster past the end of the file: keep a slot for it.
        computed = new uint[nbClusters + 1];
        refcounts = new Qcow2Refcounts(image);
    }

    public static Qcow2CheckResult Check(Qcow2Image image, bool repairLeaks, CancellationToken cancellationToken)
    {
        var first = new Qcow2Checker(image).Run(cancellationToken, out var leakList);
        if (!repairLeaks) return first;
        if (first.Corruptions > 0 || first.CheckErrors > 0)
            throw new Errors.VzInvalidStateException("VzDiskRepairRefused",
                $"The disk image '{image.Path}' has {first.Corruptions} corruptions and {first.CheckErrors} check errors; only leaks are repaired natively.",
                image.Path) { RecommendedAction = "Back the image up, then run 'qemu-img check -r all' on it." };
        if (first.Leaks == 0 && !image.Header.IsDirty) return first;
        if (!image.Writable) throw new InvalidOperationException("repair needs a writable image");

        var refs = new Qcow2Refcounts(image);
        foreach (var (cluster, value) in leakList) refs.Set(cluster, value);
        refs.WriteDirty();
        image.Flush();
        if (image.Header.IsDirty)
        {
            // Refcounts are exact again, so the lazy-refcounts dirty bit can go.
            Span<byte> field = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(field, image.Header.IncompatibleFeatures & ~Qcow2Header.IncompatDirty);
            image.WriteHeaderField(72, field);
        }
        var after = new Qcow2Checker(image).Run(cancellationToken, out _);
        return new Qcow2CheckResult
        {
            Path = image.Path, Corruptions = after.Corruptions, Leaks = after.Leaks, CheckErrors = after.CheckErrors,
            LeaksFixed = first.Leaks - after.Leaks, TotalClusters = after.TotalClusters, AllocatedClusters = after.AllocatedClusters,
            FragmentedClusters = after.FragmentedClusters, CompressedClusters = after.CompressedClusters,
            ImageEndOffset = after.ImageEndOffset, Messages = [.. first.Messages, $"Repaired {first.Leaks - after.Leaks} leaked clusters"],
        };
    }

    private Qcow2CheckResult Run(CancellationToken ct, out List<(long Cluster, ulong Value)> leakFixes)
    {
        var h = image.Header;
        leakFixes = [];
        Reference(0, clusterSize, "the header");

        // Refcount table and blocks first, so invalid blocks are forgotten before any refcount is read.
        Reference(h.RefcountTableOffset, h.RefcountTableClusters * clusterSize, "the refcount table");
        for (var i = 0; i < refcounts.Table.Count; i++)
        {
            var offset = refcounts.BlockOffset(i);
            if ((refcounts.Table[i] & RefTableReserved) != 0)
            {
                Corruption($"ERROR refcount table entry {i} has reserved bits set");
                refcounts.Forget(i);
                continue;
            }
            if (offset == 0) continue;
            if ((offset & (clusterSize - 1)) != 0)
            {
                Corruption($"ERROR refcount block {i} is not cluster aligned; refcount table entry corrupted");
                refcounts.Forget(i);
            }
            else if (offset >= image.FileLength)
            {
                Corruption($"ERROR refcount block {i} is outside image");
                refcounts.Forget(i);
            }
            else Reference(offset, clusterSize, $"refcount block {i}");
        }

        var l1 = image.ReadL1();
        Reference(h.L1TableOffset, (long)h.L1Size * 8, "the L1 table");
        var l2Buffer = new byte[clusterSize];
        var activeL2 = WalkL1(l1, l2Buffer, ct, active: true);
        CheckSnapshots(l2Buffer, ct);

        // Compare computed references with the stored refcounts, a block at a time.
        long highest = -1;
        var perBlock = refcounts.EntriesPerBlock;
        for (long bi = 0; bi * perBlock < computed.Length; bi++)
        {
            ct.ThrowIfCancellationRequested();
            var block = refcounts.Block(bi);
            var start = bi * perBlock;
            var end = Math.Min(computed.Length, start + perBlock);
            for (var c = start; c < end; c++)
            {
                var stored = block is null ? 0 : Qcow2Refcounts.GetEntry(block, c - start, refcounts.Order);
                var reference = computed[c];
                if (stored > 0 || reference > 0) highest = c;
                if (stored == reference) continue;
                if (stored < reference) Corruption($"ERROR cluster {c} refcount={stored} reference={reference}");
                else
                {
                    leaks++;
                    Note($"Leaked cluster {c} refcount={stored} reference={reference}");
                    leakFixes.Add((c, reference));
                }
            }
        }
        // Refcounts kept for clusters past the end of the file are leaks too. Most of such a block is zero bytes,
        // which is checked in one pass before looking at single entries.
        var seenBlocks = new HashSet<long>();
        var bits = 1 << refcounts.Order;
        for (var i = computed.Length / perBlock; i < refcounts.Table.Count; i++)
        {
            var offset = refcounts.BlockOffset(i);
            if (offset == 0 || !seenBlocks.Add(offset)) continue;
            ct.ThrowIfCancellationRequested();
            var block = refcounts.Block(i)!;
            var first = Math.Max(computed.Length, i * perBlock) - i * perBlock;
            if (block.AsSpan((int)(first * bits / 8)).IndexOfAnyExcept((byte)0) < 0) continue;
            for (var e = first; e < perBlock; e++)
            {
                var stored = Qcow2Refcounts.GetEntry(block, e, refcounts.Order);
                if (stored == 0) continue;
                var c = i * perBlock + e;
                leaks++;
                highest = Math.Max(highest, c);
                Note($"Leaked cluster {c} refcount={stored} reference=0");
                leakFixes.Add((c, 0));
            }
        }

        CheckCopiedFlags(l1, activeL2, l2Buffer);
        return new Qcow2CheckResult
        {
            Path = image.Path, Corruptions = corruptions, Leaks = leaks, CheckErrors = checkErrors,
            TotalClusters = (h.Size + clusterSize - 1) / clusterSize, AllocatedClusters = allocated,
            FragmentedClusters = fragmented, CompressedClusters = compressed,
            ImageEndOffset = (highest + 1) * clusterSize, Messages = messages,
        };
    }

    /// <summary>Counts the L2 tables and data clusters an L1 table references; returns the valid L2 offsets.</summary>
    private List<long> WalkL1(ulong[] l1, byte[] l2Buffer, CancellationToken ct, bool active)
    {
        var h = image.Header;
        var valid = new List<long>();
        var entrySize = h.L2EntrySize;
        for (var i = 0; i < l1.Length; i++)
        {
            if (l1[i] == 0) continue;
            if ((l1[i] & L1Reserved) != 0) Corruption($"ERROR found L1 entry with reserved bits set: {l1[i]:x}");
            var l2Offset = (long)(l1[i] & Qcow2Image.OffsetMask);
            if (l2Offset == 0) continue;
            ct.ThrowIfCancellationRequested();
            if ((l2Offset & (clusterSize - 1)) != 0)
            {
                Corruption($"ERROR l2_offset={l2Offset:x}: Table is not cluster aligned; L1 entry corrupted");
                continue;
            }
            if (l2Offset + clusterSize > image.FileLength)
            {
                Corruption($"ERROR l2_offset={l2Offset:x}: L2 table is outside the image file");
                continue;
            }
            Reference(l2Offset, clusterSize, "an L2 table");
            try { image.ReadL2(l2Offset, l2Buffer); }
            catch (IOException ex)
            {
                checkErrors++;
                Note($"ERROR reading L2 table at 0x{l2Offset:x}: {ex.Message}");
                continue;
            }
            if (active) valid.Add(l2Offset);
            for (var j = 0; j < h.L2Entries; j++)
            {
                var entry = BinaryPrimitives.ReadUInt64BigEndian(l2Buffer.AsSpan(j * entrySize));
                var bitmap = h.ExtendedL2 ? BinaryPrimitives.ReadUInt64BigEndian(l2Buffer.AsSpan(j * entrySize + 8)) : 0;
                if ((entry & Qcow2Image.FlagCompressed) == 0 && (entry & L2StandardReserved) != 0)
                    Corruption($"ERROR found l2 entry with reserved bits set: {entry:x}");
                if ((entry & Qcow2Image.FlagCompressed) != 0)
                {
                    if (bitmap != 0)
                    {
                        Corruption($"ERROR compressed cluster {j} with non-zero subcluster allocation bitmap, entry=0x{entry:x}");
                        continue;
                    }
                    if ((entry & Qcow2Image.FlagCopied) != 0)
                    {
                        Corruption($"ERROR: coffset=0x{entry & ~(Qcow2Image.FlagCopied | Qcow2Image.FlagCompressed):x}: copied flag must never be set for compressed clusters");
                    }
                    var (offset, length) = image.CompressedExtent(entry);
                    Reference(offset, length, "a compressed cluster");
                    if (active) { allocated++; compressed++; fragmented++; }
                    continue;
                }
                var host = (long)(entry & Qcow2Image.OffsetMask);
                if (host == 0)
                {
                    if ((bitmap & 0xFFFF_FFFFUL) != 0) Corruption("ERROR: Unallocated cluster has non-zero subcluster allocation map");
                    continue;
                }
                if (((bitmap >> 32) & bitmap) != 0)
                    Corruption($"ERROR offset={host:x}: Allocated cluster has corrupted subcluster allocation bitmap");
                if ((host & (clusterSize - 1)) != 0)
                    Corruption($"ERROR offset={host:x}: Data cluster is not properly aligned; L2 entry corrupted.");
                if (active)
                {
                    allocated++;
                    if (nextContiguous != 0 && host != nextContiguous) fragmented++;
                    nextContiguous = host + clusterSize;
                }
                Reference(host, clusterSize, "a data cluster");
            }
        }
        return valid;
    }

    private void CheckSnapshots(byte[] l2Buffer, CancellationToken ct)
    {
        var h = image.Header;
        if (h.SnapshotCount == 0) return;
        long offset = h.SnapshotsOffset;
        Span<byte> fixedPart = stackalloc byte[40];
        for (var i = 0; i < h.SnapshotCount; i++)
        {
            ct.ThrowIfCancellationRequested();
            image.ReadExact(offset, fixedPart, $"snapshot {i}");
            var l1Offset = BinaryPrimitives.ReadUInt64BigEndian(fixedPart);
            var l1Size = BinaryPrimitives.ReadUInt32BigEndian(fixedPart[8..]);
            var idSize = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[12..]);
            var nameSize = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[14..]);
            var extraSize = BinaryPrimitives.ReadUInt32BigEndian(fixedPart[36..]);
            if (extraSize > 1024) throw Qcow2Header.Corrupt(image.Path, $"snapshot {i} has {extraSize} bytes of extra data (1024 allowed)");
            offset += (40L + extraSize + idSize + nameSize + 7) & ~7L;
            if (offset > image.FileLength) throw Qcow2Header.Corrupt(image.Path, "the snapshot table runs past the end of the file");
            if ((long)l1Size * 8 > Qcow2Header.MaxL1Bytes) throw Qcow2Header.Corrupt(image.Path, $"snapshot {i} has an L1 table of {l1Size} entries");
            if (l1Size == 0) continue;
            if (l1Offset > long.MaxValue / 2) throw Qcow2Header.Corrupt(image.Path, $"snapshot {i} L1 offset is out of range");
            Qcow2Header.CheckTable((long)l1Offset, l1Size * 8L, image.FileLength, clusterSize - 1, image.Path, $"the L1 table of snapshot {i}");
            Reference((long)l1Offset, l1Size * 8L, $"the L1 table of snapshot {i}");
            WalkL1(image.ReadTable((long)l1Offset, l1Size, $"the L1 table of snapshot {i}"), l2Buffer, ct, active: false);
        }
        Reference(h.SnapshotsOffset, offset - h.SnapshotsOffset, "the snapshot table");
    }

    /// <summary>COPIED must be set exactly when the refcount is 1 (active L1 and L2 entries).</summary>
    private void CheckCopiedFlags(ulong[] l1, List<long> l2Tables, byte[] l2Buffer)
    {
        var h = image.Header;
        var validTables = new HashSet<long>(l2Tables);
        for (var i = 0; i < l1.Length; i++)
        {
            var l2Offset = (long)(l1[i] & Qcow2Image.OffsetMask);
            if (l2Offset == 0 || !validTables.Contains(l2Offset)) continue;
            var refcount = refcounts.Get(l2Offset / clusterSize);
            if ((refcount == 1) != ((l1[i] & Qcow2Image.FlagCopied) != 0))
                Corruption($"ERROR OFLAG_COPIED L2 cluster: l1_index={i} l1_entry={l1[i]:x} refcount={refcount}");
        }
        var seen = new HashSet<long>();
        foreach (var l2Offset in l2Tables)
        {
            if (!seen.Add(l2Offset)) continue;
            image.ReadL2(l2Offset, l2Buffer);
            for (var j = 0; j < h.L2Entries; j++)
            {
                var entry = BinaryPrimitives.ReadUInt64BigEndian(l2Buffer.AsSpan(j * h.L2EntrySize));
                if ((entry & Qcow2Image.FlagCompressed) != 0) continue;
                var host = (long)(entry & Qcow2Image.OffsetMask);
                if (host == 0 || (host & (clusterSize - 1)) != 0) continue;
                var refcount = refcounts.Get(host / clusterSize);
                if ((refcount == 1) != ((entry & Qcow2Image.FlagCopied) != 0))
                    Corruption($"ERROR OFLAG_COPIED data cluster: l2_entry={entry:x} refcount={refcount}");
            }
        }
    }

    private void Reference(long offset, long length, string what)
    {
        if (length <= 0) return;
        var firstCluster = offset / clusterSize;
        var lastCluster = (offset + length - 1) / clusterSize;
        if (offset < 0 || offset > image.FileLength + clusterSize || offset + length - image.FileLength >= clusterSize)
        {
            Corruption($"ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset 0x{offset:x} size 0x{length:x} ({what})");
            return;
        }
        lastCluster = Math.Min(lastCluster, computed.Length - 1);
        for (var c = Math.Max(0, firstCluster); c <= lastCluster; c++)
            if (computed[c] < uint.MaxValue) computed[c]++;
    }

    private void Corruption(string message) { corruptions++; Note(message); }

    private void Note(string message)
    {
        if (messages.Count < MaxMessages) messages.Add(message);
        else if (messages.Count == MaxMessages) messages.Add("(further findings omitted)");
    }
}
