using System.Buffers.Binary;
using System.Text.Unicode;
using Microsoft.Win32.SafeHandles;

namespace Virtuozzo.Engine.Disks.Formats;

/// <summary>
/// Recognises a disk image by content, as qemu-img's probe does (block/*.c, each driver's probe function: magic
/// numbers at fixed offsets), reading a bounded head and tail only. Where QEMU falls back to raw for anything it
/// does not know, this probe is stricter: raw is only a sector-aligned file that is neither text, an executable
/// nor a compressed archive, because a raw "disk" is written to as one.
/// </summary>
public static class DiskFormatProbe
{
    /// <summary>Bytes read from the start: every format's magic lies in the first 512; the text test reads more.</summary>
    public const int HeadBytes = 4096;

    /// <summary>Bytes read from the end: the VHD footer and the DMG trailer.</summary>
    public const int TailBytes = 512;

    /// <summary>Reads the head and the tail of an open file and probes them.</summary>
    public static DiskContent Probe(SafeFileHandle handle, long length)
    {
        var head = new byte[(int)Math.Min(HeadBytes, Math.Max(length, 0))];
        var n = ReadFully(handle, head, 0);
        var tail = Array.Empty<byte>();
        if (length >= TailBytes)
        {
            tail = new byte[TailBytes];
            if (ReadFully(handle, tail, length - TailBytes) < TailBytes) tail = [];
        }
        return Probe(head.AsSpan(0, n), tail, length);
    }

    /// <summary>Probes <paramref name="head"/> (the first bytes) and <paramref name="tail"/> (the last 512, or empty).</summary>
    public static DiskContent Probe(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, long length)
    {
        if (ImageFormat(head, tail) is { } format) return DiskContent.Image(format);
        if (length == 0) return DiskContent.Refused("an empty file, not a disk image");
        if (head.StartsWith(ElfMagic)) return DiskContent.Refused("an ELF executable, not a disk image");
        if (Archive(head) is { } archive) return DiskContent.Refused($"a compressed file ({archive}), not a disk image");
        if (IsText(head, wholeFile: length <= head.Length)) return DiskContent.Refused("a text file, not a disk image");
        if (length % 512 != 0) return DiskContent.Refused($"a file of {length} bytes, not a whole number of 512-byte sectors, so not a raw disk image");
        return DiskContent.Image(DiskFormat.Raw);
    }

    /// <summary>The format whose magic the bytes carry, in the order and with the checks of QEMU's probes.</summary>
    public static DiskFormat? ImageFormat(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail)
    {
        if (head.Length >= 8 && head.StartsWith(QcowMagic))
            return BinaryPrimitives.ReadUInt32BigEndian(head[4..]) >= 2 ? DiskFormat.Qcow2 : DiskFormat.Qcow;
        if (head.StartsWith(QedMagic)) return DiskFormat.Qed;
        if (head.StartsWith("KDMV"u8) || head.StartsWith("COWD"u8) || IsVmdkDescriptor(head)) return DiskFormat.Vmdk;
        if (head.StartsWith("vhdxfile"u8)) return DiskFormat.Vhdx;
        // A dynamic VHD starts with a copy of its footer (QEMU probes only that); a fixed VHD is raw data with the
        // footer in its last 512 bytes, which qemu-img reads as raw unless told -f vpc.
        if (head.StartsWith("conectix"u8) || tail.StartsWith("conectix"u8)) return DiskFormat.Vpc;
        if (head.Length >= 0x48 && BinaryPrimitives.ReadUInt32LittleEndian(head[0x40..]) == 0xbeda107f) return DiskFormat.Vdi;
        if (head.Length >= 20 && (head.StartsWith("WithoutFreeSpace"u8) || head.StartsWith("WithouFreSpacExt"u8))
            && BinaryPrimitives.ReadUInt32LittleEndian(head[16..]) == 2) return DiskFormat.Parallels;
        if (head.Length >= 8 && head.StartsWith(LuksMagic)) return DiskFormat.Luks;
        if (head.Length >= 68 && head.StartsWith("Bochs Virtual HD Image"u8) && head[32..].StartsWith("Redolog"u8)
            && head[48..].StartsWith("Growing"u8)) return DiskFormat.Bochs;
        if (head.StartsWith("#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n"u8)) return DiskFormat.Cloop;
        if (tail.Length == TailBytes && tail.StartsWith("koly"u8)) return DiskFormat.Dmg;
        return null;
    }

    /// <summary>
    /// A VMDK descriptor: text whose first line that is not a comment or blank is <c>version=1</c>, 2 or 3
    /// (vmdk_probe), usually after "# Disk DescriptorFile".
    /// </summary>
    private static bool IsVmdkDescriptor(ReadOnlySpan<byte> head)
    {
        var text = head;
        while (!text.IsEmpty)
        {
            var eol = text.IndexOf((byte)'\n');
            var line = eol < 0 ? text : text[..eol];
            text = eol < 0 ? [] : text[(eol + 1)..];
            line = line.TrimEnd((byte)'\r').Trim((byte)' ');
            if (line.IsEmpty || line[0] == (byte)'#') continue;
            return line.SequenceEqual("version=1"u8) || line.SequenceEqual("version=2"u8) || line.SequenceEqual("version=3"u8);
        }
        return false;
    }

    private static string? Archive(ReadOnlySpan<byte> head) =>
        head.StartsWith(GzipMagic) ? "gzip"
        : head.StartsWith(XzMagic) ? "xz"
        : head.StartsWith(ZstdMagic) ? "zstd"
        : head.StartsWith("BZh"u8) && head.Length > 3 && head[3] is >= (byte)'1' and <= (byte)'9' ? "bzip2"
        : head.StartsWith(ZipMagic) ? "zip"
        : null;

    /// <summary>
    /// Text: no NUL, valid UTF-8, no control characters other than the whitespace text uses, and lines (a line
    /// break, unless the window is the whole file). The last rule keeps a raw disk whose first 4 KiB happen to be
    /// one repeated printable byte (a test pattern) a disk.
    /// </summary>
    private static bool IsText(ReadOnlySpan<byte> head, bool wholeFile)
    {
        if (head.IsEmpty || head.Contains((byte)0)) return false;
        if (!wholeFile && !head.Contains((byte)'\n')) return false;
        // A multi-byte character cut at the end of the window is still text.
        var cut = head.Length;
        for (var i = 1; i <= 3 && i <= head.Length; i++)
            if ((head[^i] & 0xC0) == 0xC0) { cut = head.Length - i; break; }
            else if ((head[^i] & 0x80) == 0) break;
        if (!Utf8.IsValid(head[..cut])) return false;
        foreach (var b in head)
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f' or 0x1b or (byte)'\b')) return false;
        return true;
    }

    // Magic numbers with bytes above 0x7f: a u8 string literal would UTF-8-encode them.
    private static ReadOnlySpan<byte> QcowMagic => [(byte)'Q', (byte)'F', (byte)'I', 0xfb];
    private static ReadOnlySpan<byte> QedMagic => [(byte)'Q', (byte)'E', (byte)'D', 0];
    private static ReadOnlySpan<byte> ElfMagic => [0x7f, (byte)'E', (byte)'L', (byte)'F'];
    private static ReadOnlySpan<byte> LuksMagic => [(byte)'L', (byte)'U', (byte)'K', (byte)'S', 0xba, 0xbe];
    private static ReadOnlySpan<byte> GzipMagic => [0x1f, 0x8b];
    private static ReadOnlySpan<byte> XzMagic => [0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0];
    private static ReadOnlySpan<byte> ZstdMagic => [0x28, 0xb5, 0x2f, 0xfd];
    private static ReadOnlySpan<byte> ZipMagic => [(byte)'P', (byte)'K', 3, 4];

    private static int ReadFully(SafeFileHandle handle, byte[] buffer, long offset)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = RandomAccess.Read(handle, buffer.AsSpan(total), offset + total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
