using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>
/// An open qcow2 file: its validated header and bounded readers for its tables. Every read is checked against the
/// file length first, so a hostile pointer becomes a <see cref="VzDiskCorruptException"/>, not a stray read.
/// </summary>
public sealed class Qcow2Image : IDisposable
{
    /// <summary>Host cluster offset bits of an L1 or standard L2 entry (bits 9..55).</summary>
    public const ulong OffsetMask = 0x00FF_FFFF_FFFF_FE00UL;
    public const ulong FlagCopied = 1UL << 63;
    public const ulong FlagCompressed = 1UL << 62;
    public const ulong FlagZero = 1UL << 0;
    /// <summary>Refcount table entries: bits 9..63 are the block offset.</summary>
    public const ulong RefTableOffsetMask = 0xFFFF_FFFF_FFFF_FE00UL;

    private Qcow2Image(string path, SafeFileHandle handle, bool writable)
    {
        Path = path;
        Handle = handle;
        Writable = writable;
        FileLength = RandomAccess.GetLength(handle);
        Header = Qcow2Header.Read(handle, FileLength, path);
    }

    public string Path { get; }
    public SafeFileHandle Handle { get; }
    public bool Writable { get; }
    public long FileLength { get; internal set; }
    public Qcow2Header Header { get; internal set; }
    public long ClusterSize => Header.ClusterSize;

    /// <summary>Opens a file and reads its header. The handle is closed again if the header is refused.</summary>
    public static Qcow2Image Open(string path, bool writable = false)
    {
        var handle = File.OpenHandle(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read, FileShare.ReadWrite);
        try { return new Qcow2Image(path, handle, writable); }
        catch { handle.Dispose(); throw; }
    }

    /// <summary>Reads the header of an already open file; the image owns the handle from here on (also on failure).</summary>
    public static Qcow2Image FromHandle(SafeFileHandle handle, string path, bool writable = false)
    {
        try { return new Qcow2Image(path, handle, writable); }
        catch { handle.Dispose(); throw; }
    }

    public void Dispose() => Handle.Dispose();

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>, which must be inside the file.</summary>
    public void ReadExact(long offset, Span<byte> buffer, string what)
    {
        if (offset < 0 || offset > FileLength || buffer.Length > FileLength - offset)
            throw Qcow2Header.Corrupt(Path, $"{what} at offset {offset} ({buffer.Length} bytes) lies outside the file ({FileLength} bytes)");
        var done = 0;
        while (done < buffer.Length)
        {
            var n = RandomAccess.Read(Handle, buffer[done..], offset + done);
            if (n <= 0) throw Qcow2Header.Corrupt(Path, $"the file ended while reading {what}");
            done += n;
        }
    }

    /// <summary>Test seam for crash simulation: after this many more writes, every write fails as if the power went.</summary>
    internal int? WritesUntilCrash { get; set; }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        if (WritesUntilCrash is { } left)
        {
            if (left <= 0) throw new IOException("simulated power loss");
            WritesUntilCrash = left - 1;
        }
        RandomAccess.Write(Handle, data, offset);
        if (offset + data.Length > FileLength) FileLength = offset + data.Length;
    }

    /// <summary>Makes every write so far durable before the next step of a crash-safe sequence.</summary>
    public void Flush() => RandomAccess.FlushToDisk(Handle);

    /// <summary>Reads a table of big-endian 64-bit entries (L1 or refcount table), bounded by the file.</summary>
    public ulong[] ReadTable(long offset, long entries, string what)
    {
        if (entries == 0) return [];
        if (entries < 0 || entries > FileLength / 8) throw Qcow2Header.Corrupt(Path, $"{what} has {entries} entries, more than the file can hold");
        var bytes = new byte[entries * 8];
        ReadExact(offset, bytes, what);
        var table = new ulong[entries];
        for (var i = 0; i < table.Length; i++) table[i] = BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(i * 8));
        return table;
    }

    public ulong[] ReadL1() => ReadTable(Header.L1TableOffset, Header.L1Size, "the L1 table");

    /// <summary>Reads one L2 table into <paramref name="buffer"/> (one cluster); the offset must be aligned and inside the file.</summary>
    public void ReadL2(long offset, byte[] buffer)
    {
        if ((offset & (ClusterSize - 1)) != 0) throw Qcow2Header.Corrupt(Path, $"an L2 table at offset {offset} is not cluster aligned");
        ReadExact(offset, buffer.AsSpan(0, (int)ClusterSize), "an L2 table");
    }

    /// <summary>Compressed cluster descriptor: host offset and the bytes it spans (whole 512-byte sectors).</summary>
    public (long Offset, long Length) CompressedExtent(ulong entry)
    {
        var shift = 62 - (Header.ClusterBits - 8);
        var offsetMask = (1UL << shift) - 1;
        var sectors = ((entry >> shift) & ((1UL << (Header.ClusterBits - 8)) - 1)) + 1;
        var offset = (long)(entry & offsetMask);
        var start = offset & ~511L;
        return (start, (long)sectors * 512);
    }

    /// <summary>Rewrites header bytes [<paramref name="offset"/>, +data) in one write: fields that change together
    /// (size, L1 size and L1 offset; refcount table offset and clusters) sit in one 512-byte sector, so the update
    /// is atomic on every disk this runs on.</summary>
    internal void WriteHeaderField(int offset, ReadOnlySpan<byte> data)
    {
        if (offset / 512 != (offset + data.Length - 1) / 512) throw new InvalidOperationException("header update spans sectors");
        Write(offset, data);
        Flush();
        Header = Qcow2Header.Read(Handle, FileLength, Path);
    }
}
