using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>
/// Writes a new qcow2 image: header (+ backing format extension and backing file name), refcount table and blocks,
/// L1 table, and for metadata preallocation every L2 table and data cluster mapping. The image is built in a
/// temporary file beside the target and renamed into place only when complete, so a failure leaves nothing behind.
/// </summary>
public static class Qcow2Creator
{
    public static void Create(string path, Qcow2CreateOptions options, CancellationToken cancellationToken = default)
    {
        var o = Validate(path, options);
        var cs = o.ClusterSize;
        var clusterBits = BitOperations.Log2((ulong)cs);
        var refcountOrder = BitOperations.Log2((uint)o.RefcountBits);
        var size = (o.VirtualSize + 511) & ~511L;
        var l1Entries = Qcow2Header.L1EntriesFor(size, clusterBits, extendedL2: false);
        var l1Clusters = (l1Entries * 8 + cs - 1) / cs; // none for an empty disk: qemu counts no L1 cluster then
        var prealloc = o.Preallocation == Qcow2Preallocation.Metadata;
        var l2Count = prealloc ? l1Entries : 0;
        var dataClusters = prealloc ? (size + cs - 1) / cs : 0;
        var entriesPerBlock = cs * 8 / o.RefcountBits;

        // Refcount blocks must count themselves and the table: iterate to the fixed point.
        long rb = 1, rt = 1;
        while (true)
        {
            var total = 1 + rt + rb + l1Clusters + l2Count + dataClusters;
            var nrb = (total + entriesPerBlock - 1) / entriesPerBlock;
            var nrt = (nrb * 8 + cs - 1) / cs;
            if (nrb == rb && nrt == rt) break;
            rb = nrb; rt = nrt;
        }
        if (rt * cs > Qcow2Header.MaxRefcountTableBytes)
            throw new VzInvalidArgumentException("VzDiskSizeOutOfRange", $"A {size}-byte disk with {cs}-byte clusters needs a refcount table larger than 8 MiB.", path, "Size");
        var reftableOffset = 1 * cs;
        var refblockOffset = (1 + rt) * cs;
        var l1Offset = (1 + rt + rb) * cs;
        var l2Offset = l1Offset + l1Clusters * cs;
        var dataOffset = l2Offset + l2Count * cs;
        var totalClusters = 1 + rt + rb + l1Clusters + l2Count + dataClusters;

        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.vz-tmp");
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
                   {
                       Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.None,
                       UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
                   }))
            {
                var handle = stream.SafeFileHandle;
                WriteNonZero(handle, BuildHeader(o, size, clusterBits, refcountOrder, l1Entries, l1Offset, reftableOffset, rt, path), 0);

                var table = new byte[rt * cs];
                for (var i = 0; i < rb; i++) BinaryPrimitives.WriteUInt64BigEndian(table.AsSpan(i * 8), (ulong)(refblockOffset + i * cs));
                WriteNonZero(handle, table, reftableOffset);
                var block = new byte[cs];
                for (var i = 0; i < rb; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Array.Clear(block);
                    for (var c = i * entriesPerBlock; c < Math.Min(totalClusters, (i + 1) * entriesPerBlock); c++)
                        Qcow2Refcounts.SetEntry(block, c - i * entriesPerBlock, refcountOrder, 1);
                    WriteNonZero(handle, block, refblockOffset + i * cs);
                }

                var l1 = new byte[l1Clusters * cs];
                for (var i = 0; i < l2Count; i++)
                    BinaryPrimitives.WriteUInt64BigEndian(l1.AsSpan(i * 8), (ulong)(l2Offset + i * cs) | Qcow2Image.FlagCopied);
                WriteNonZero(handle, l1, l1Offset);

                var l2 = new byte[cs];
                var perL2 = cs / 8;
                for (var i = 0; i < l2Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Array.Clear(l2);
                    for (var j = 0; j < perL2; j++)
                    {
                        var guestCluster = i * perL2 + j;
                        if (guestCluster >= dataClusters) break;
                        BinaryPrimitives.WriteUInt64BigEndian(l2.AsSpan((int)(j * 8)), (ulong)(dataOffset + guestCluster * cs) | Qcow2Image.FlagCopied);
                    }
                    WriteNonZero(handle, l2, l2Offset + i * cs);
                }
                RandomAccess.SetLength(handle, Math.Max(totalClusters * cs, l1Offset + l1Clusters * cs));
                RandomAccess.FlushToDisk(handle);
            }
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path) && File.Exists(temp))
        {
            TryDelete(temp);
            throw new VzAlreadyExistsException("VzDiskAlreadyExists", $"The file '{path}' already exists.", path);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        AtomicFile.SyncDirectory(dir);
    }

    private static Qcow2CreateOptions Validate(string path, Qcow2CreateOptions o)
    {
        var cs = o.ClusterSize;
        if (cs < 512 || cs > 2 << 20 || (cs & (cs - 1)) != 0)
            throw new VzInvalidArgumentException("VzDiskInvalidClusterSize", $"The cluster size {cs} is not a power of two between 512 bytes and 2 MiB.", path, "ClusterSize");
        if (o.Compat is not ("1.1" or "0.10" or "v3" or "v2"))
            throw new VzInvalidArgumentException("VzDiskInvalidCompat", $"Compat '{o.Compat}' is not '1.1' or '0.10'.", path, "Compat");
        var v2 = o.Compat is "0.10" or "v2";
        if (o.RefcountBits is not (1 or 2 or 4 or 8 or 16 or 32 or 64))
            throw new VzInvalidArgumentException("VzDiskInvalidRefcountBits", $"Refcount width {o.RefcountBits} is not a power of two from 1 to 64.", path, "RefcountBits");
        if (v2 && (o.RefcountBits != 16 || o.LazyRefcounts))
            throw new VzInvalidArgumentException("VzDiskCompatConflict", "Compat 0.10 images have 16-bit refcounts and no lazy refcounts.", path, "Compat");
        if (o.VirtualSize < 0)
            throw new VzInvalidArgumentException("VzDiskSizeOutOfRange", "The size cannot be negative.", path, "Size");
        var clusterBits = BitOperations.Log2((ulong)cs);
        if (o.VirtualSize > long.MaxValue / 4 || Qcow2Header.L1EntriesFor(o.VirtualSize, clusterBits, false) * 8 > Qcow2Header.MaxL1Bytes)
            throw new VzInvalidArgumentException("VzDiskSizeOutOfRange", $"{o.VirtualSize} bytes is too large for {cs}-byte clusters (the L1 table would exceed 32 MiB).", path, "Size")
            { RecommendedAction = "Use a larger -ClusterSize." };
        if (o.BackingFile is not null && o.Preallocation != Qcow2Preallocation.Off)
            throw new VzInvalidArgumentException("VzDiskPreallocationConflict", "A disk with a backing file cannot be preallocated: preallocated clusters would hide the backing data.", path, "Preallocation");
        if (o.BackingFile is { } b && (b.Length == 0 || Encoding.UTF8.GetByteCount(b) > Qcow2Header.MaxBackingFileNameLength))
            throw new VzInvalidArgumentException("VzDiskInvalidBackingFile", "The backing file name must be 1 to 1023 bytes.", path, "BackingDisk");
        return v2 ? o with { Compat = "0.10" } : o with { Compat = "1.1" };
    }

    private static byte[] BuildHeader(Qcow2CreateOptions o, long size, int clusterBits, int refcountOrder, long l1Entries, long l1Offset,
        long reftableOffset, long reftableClusters, string path)
    {
        var cs = o.ClusterSize;
        var v3 = o.Compat == "1.1";
        var header = new byte[cs];
        var h = header.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(h, Qcow2Header.Magic);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], v3 ? 3u : 2u);
        BinaryPrimitives.WriteUInt32BigEndian(h[20..], (uint)clusterBits);
        BinaryPrimitives.WriteUInt64BigEndian(h[24..], (ulong)size);
        BinaryPrimitives.WriteUInt32BigEndian(h[36..], (uint)l1Entries);
        BinaryPrimitives.WriteUInt64BigEndian(h[40..], (ulong)l1Offset);
        BinaryPrimitives.WriteUInt64BigEndian(h[48..], (ulong)reftableOffset);
        BinaryPrimitives.WriteUInt32BigEndian(h[56..], (uint)reftableClusters);
        var offset = Qcow2Header.V2HeaderLength;
        if (v3)
        {
            BinaryPrimitives.WriteUInt64BigEndian(h[80..], o.LazyRefcounts ? Qcow2Header.CompatLazyRefcounts : 0);
            BinaryPrimitives.WriteUInt32BigEndian(h[96..], (uint)refcountOrder);
            BinaryPrimitives.WriteUInt32BigEndian(h[100..], Qcow2Header.V3HeaderLength);
            offset = Qcow2Header.V3HeaderLength;
        }
        if (o.BackingFile is not null)
        {
            if (o.BackingFormat is { Length: > 0 } fmt)
            {
                var f = Encoding.UTF8.GetBytes(fmt);
                offset = WriteExtension(h, offset, Qcow2Header.ExtBackingFormat, f, path);
            }
            offset = WriteExtension(h, offset, Qcow2Header.ExtEnd, [], path);
            var name = Encoding.UTF8.GetBytes(o.BackingFile);
            if (offset + name.Length > cs)
                throw new VzInvalidArgumentException("VzDiskInvalidBackingFile", $"The backing file name does not fit in one {cs}-byte cluster; use a shorter path or a larger cluster size.", path, "BackingDisk");
            name.CopyTo(h[offset..]);
            BinaryPrimitives.WriteUInt64BigEndian(h[8..], (ulong)offset);
            BinaryPrimitives.WriteUInt32BigEndian(h[16..], (uint)name.Length);
        }
        return header;
    }

    private static int WriteExtension(Span<byte> h, int offset, uint type, byte[] data, string path)
    {
        var padded = (data.Length + 7) & ~7;
        if (offset + 8 + padded > h.Length)
            throw new VzInvalidArgumentException("VzDiskInvalidBackingFile", "The header extensions do not fit in the first cluster; use a larger cluster size.", path, "ClusterSize");
        BinaryPrimitives.WriteUInt32BigEndian(h[offset..], type);
        BinaryPrimitives.WriteUInt32BigEndian(h[(offset + 4)..], (uint)data.Length);
        data.CopyTo(h[(offset + 8)..]);
        return offset + 8 + padded;
    }

    /// <summary>
    /// Writes only up to the last non-zero byte: the rest of each cluster is a hole that reads as zeros once the
    /// file is extended, so a new image costs a few small writes (and a cheap fsync) instead of whole clusters.
    /// </summary>
    private static void WriteNonZero(Microsoft.Win32.SafeHandles.SafeFileHandle handle, byte[] data, long offset)
    {
        var last = data.AsSpan().LastIndexOfAnyExcept((byte)0);
        if (last >= 0) RandomAccess.Write(handle, data.AsSpan(0, last + 1), offset);
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
