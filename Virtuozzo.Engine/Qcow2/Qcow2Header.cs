using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>
/// The qcow2 header and its extensions (qemu docs/interop/qcow2.txt), parsed from an untrusted file: every field
/// is range-checked against the spec and the file length before anything uses it, and anything this code does not
/// understand is refused by name rather than guessed at.
/// </summary>
public sealed class Qcow2Header
{
    public const uint Magic = 0x514649FB; // "QFI\xfb"
    public const int V2HeaderLength = 72;
    public const int V3HeaderLength = 112;
    public const int MaxBackingFileNameLength = 1023;

    /// <summary>qemu's limits (QCOW_MAX_L1_SIZE, QCOW_MAX_REFTABLE_SIZE, QCOW_MAX_SNAPSHOTS): larger is refused.</summary>
    public const long MaxL1Bytes = 32L << 20;
    public const long MaxRefcountTableBytes = 8L << 20;
    public const int MaxSnapshots = 65536;

    // Incompatible feature bits.
    public const ulong IncompatDirty = 1UL << 0;
    public const ulong IncompatCorrupt = 1UL << 1;
    public const ulong IncompatExternalDataFile = 1UL << 2;
    public const ulong IncompatCompressionType = 1UL << 3;
    public const ulong IncompatExtendedL2 = 1UL << 4;
    public const ulong IncompatKnown = 0x1F;
    public const ulong CompatLazyRefcounts = 1UL << 0;
    public const ulong AutoclearBitmaps = 1UL << 0;

    // Header extension types.
    public const uint ExtEnd = 0;
    public const uint ExtBackingFormat = 0xE2792ACA;
    public const uint ExtFeatureNames = 0x6803F857;
    public const uint ExtBitmaps = 0x23852875;
    public const uint ExtFullDiskEncryption = 0x0537BE77;
    public const uint ExtExternalDataFile = 0x44415441;

    public int Version { get; private init; }
    public long BackingFileOffset { get; private init; }
    public int BackingFileSize { get; private init; }
    public int ClusterBits { get; private init; }
    public long Size { get; private init; }
    public int CryptMethod { get; private init; }
    public int L1Size { get; private init; }
    public long L1TableOffset { get; private init; }
    public long RefcountTableOffset { get; private init; }
    public int RefcountTableClusters { get; private init; }
    public int SnapshotCount { get; private init; }
    public long SnapshotsOffset { get; private init; }
    public ulong IncompatibleFeatures { get; private init; }
    public ulong CompatibleFeatures { get; private init; }
    public ulong AutoclearFeatures { get; private init; }
    public int RefcountOrder { get; private init; }
    public int HeaderLength { get; private init; }
    public byte CompressionType { get; private init; }

    public string? BackingFile { get; private set; }
    public string? BackingFormat { get; private set; }
    public string? ExternalDataFile { get; private set; }
    public int BitmapCount { get; private set; }
    public long BitmapDirectorySize { get; private set; }
    public long BitmapDirectoryOffset { get; private set; }
    public bool HasEncryptionHeader { get; private set; }

    /// <summary>Names from the feature name table, for refusing unknown bits by their real name.</summary>
    public IReadOnlyDictionary<(int Type, int Bit), string> FeatureNames => featureNames;
    private readonly Dictionary<(int, int), string> featureNames = [];

    public long ClusterSize => 1L << ClusterBits;
    public int RefcountBits => 1 << RefcountOrder;
    public bool IsDirty => (IncompatibleFeatures & IncompatDirty) != 0;
    public bool IsCorrupt => (IncompatibleFeatures & IncompatCorrupt) != 0;
    public bool ExtendedL2 => (IncompatibleFeatures & IncompatExtendedL2) != 0;
    public bool LazyRefcounts => (CompatibleFeatures & CompatLazyRefcounts) != 0;
    public bool HasBitmaps => (AutoclearFeatures & AutoclearBitmaps) != 0 && BitmapCount > 0;
    public string Compat => Version == 2 ? "0.10" : "1.1";
    public string CompressionTypeName => CompressionType == 1 ? "zstd" : "zlib";
    public int L2EntrySize => ExtendedL2 ? 16 : 8;
    public long L2Entries => ClusterSize / L2EntrySize;

    /// <summary>Guest bytes one L1 entry maps.</summary>
    public long BytesPerL1Entry => L2Entries * ClusterSize;

    /// <summary>L1 entries needed for <paramref name="virtualSize"/>, without overflow.</summary>
    public static long L1EntriesFor(long virtualSize, int clusterBits, bool extendedL2)
    {
        var perL1 = (1L << clusterBits) / (extendedL2 ? 16 : 8) * (1L << clusterBits);
        return virtualSize / perL1 + (virtualSize % perL1 != 0 ? 1 : 0);
    }

    /// <summary>Quick sniff: does this file start with the qcow2 magic?</summary>
    public static bool HasMagic(SafeFileHandle file)
    {
        Span<byte> magic = stackalloc byte[4];
        return RandomAccess.Read(file, magic, 0) == 4 && BinaryPrimitives.ReadUInt32BigEndian(magic) == Magic;
    }

    /// <summary>Reads and validates the header of an open file. Throws <see cref="VzDiskCorruptException"/> or
    /// <see cref="VzDiskUnsupportedException"/>; never allocates more than one cluster.</summary>
    public static Qcow2Header Read(SafeFileHandle file, long fileLength, string path)
    {
        if (fileLength < V2HeaderLength) throw Corrupt(path, $"the file is {fileLength} bytes, shorter than a qcow2 header");
        var reader = new HeaderReader(file, fileLength);
        var b = reader.Ensure(V2HeaderLength, path);
        if (BinaryPrimitives.ReadUInt32BigEndian(b) != Magic) throw Corrupt(path, "the qcow2 magic 'QFI\\xfb' is missing");
        var version = BinaryPrimitives.ReadUInt32BigEndian(b[4..]);
        if (version is not (2 or 3)) throw new VzDiskUnsupportedException(path, $"qcow2 version {version}", "read");

        var clusterBits = BinaryPrimitives.ReadUInt32BigEndian(b[20..]);
        if (clusterBits is < 9 or > 21) throw Corrupt(path, $"cluster_bits {clusterBits} is outside 9..21");
        var clusterSize = 1L << (int)clusterBits;

        ulong incompat = 0, compat = 0, autoclear = 0;
        uint refcountOrder = 4, headerLength = V2HeaderLength;
        byte compressionType = 0;
        if (version == 3)
        {
            b = reader.Ensure(104, path);
            incompat = BinaryPrimitives.ReadUInt64BigEndian(b[72..]);
            compat = BinaryPrimitives.ReadUInt64BigEndian(b[80..]);
            autoclear = BinaryPrimitives.ReadUInt64BigEndian(b[88..]);
            refcountOrder = BinaryPrimitives.ReadUInt32BigEndian(b[96..]);
            headerLength = BinaryPrimitives.ReadUInt32BigEndian(b[100..]);
            if (headerLength < 104 || headerLength > clusterSize || headerLength % 8 != 0)
                throw Corrupt(path, $"header_length {headerLength} is not a multiple of 8 between 104 and the cluster size");
            if (refcountOrder > 6) throw Corrupt(path, $"refcount_order {refcountOrder} is larger than 6");
            if (headerLength > 104)
            {
                b = reader.Ensure(105, path);
                compressionType = b[104];
            }
        }

        var size = BinaryPrimitives.ReadUInt64BigEndian(b[24..]);
        if (size > long.MaxValue / 2) throw Corrupt(path, $"virtual size {size} is out of range");
        var h = new Qcow2Header
        {
            Version = (int)version,
            BackingFileOffset = CheckedLong(BinaryPrimitives.ReadUInt64BigEndian(b[8..]), path, "backing_file_offset"),
            BackingFileSize = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(b[16..]), int.MaxValue),
            ClusterBits = (int)clusterBits,
            Size = (long)size,
            CryptMethod = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(b[32..]), int.MaxValue),
            L1Size = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(b[36..]), int.MaxValue),
            L1TableOffset = CheckedLong(BinaryPrimitives.ReadUInt64BigEndian(b[40..]), path, "l1_table_offset"),
            RefcountTableOffset = CheckedLong(BinaryPrimitives.ReadUInt64BigEndian(b[48..]), path, "refcount_table_offset"),
            RefcountTableClusters = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(b[56..]), int.MaxValue),
            SnapshotCount = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(b[60..]), int.MaxValue),
            SnapshotsOffset = CheckedLong(BinaryPrimitives.ReadUInt64BigEndian(b[64..]), path, "snapshots_offset"),
            IncompatibleFeatures = incompat,
            CompatibleFeatures = compat,
            AutoclearFeatures = autoclear,
            RefcountOrder = (int)refcountOrder,
            HeaderLength = (int)headerLength,
            CompressionType = compressionType,
        };
        h.ReadExtensions(reader, path);
        h.Validate(fileLength, path);
        return h;
    }

    private void ReadExtensions(HeaderReader reader, string path)
    {
        // Extensions run from the end of the header to the backing file name (or the end of the first cluster).
        long end = BackingFileOffset != 0 ? BackingFileOffset : ClusterSize;
        if (BackingFileOffset != 0)
        {
            if (BackingFileSize == 0 || BackingFileSize > MaxBackingFileNameLength)
                throw Corrupt(path, $"the backing file name is {BackingFileSize} bytes (1..{MaxBackingFileNameLength} allowed)");
            if (BackingFileOffset < HeaderLength || BackingFileOffset + BackingFileSize > ClusterSize)
                throw Corrupt(path, "the backing file name lies outside the first cluster");
        }
        end = Math.Min(end, reader.FileLength);
        long offset = HeaderLength;
        while (offset + 8 <= end)
        {
            var b = reader.Ensure((int)(offset + 8), path);
            var type = BinaryPrimitives.ReadUInt32BigEndian(b[(int)offset..]);
            var length = BinaryPrimitives.ReadUInt32BigEndian(b[(int)(offset + 4)..]);
            if (type == ExtEnd) break;
            var dataStart = offset + 8;
            if (length > end - dataStart) throw Corrupt(path, $"header extension 0x{type:x8} runs past the header area");
            var data = reader.Ensure((int)(dataStart + length), path).Slice((int)dataStart, (int)length);
            switch (type)
            {
                case ExtBackingFormat:
                    BackingFormat = ReadName(data, path, "backing file format");
                    break;
                case ExtExternalDataFile:
                    ExternalDataFile = ReadName(data, path, "external data file name");
                    break;
                case ExtFeatureNames:
                    for (var i = 0; i + 48 <= data.Length; i += 48)
                    {
                        var name = Encoding.UTF8.GetString(data.Slice(i + 2, 46)).TrimEnd('\0');
                        featureNames[(data[i], data[i + 1])] = name;
                    }
                    break;
                case ExtBitmaps:
                    if (data.Length < 24) throw Corrupt(path, "the bitmaps extension is shorter than 24 bytes");
                    BitmapCount = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(data), int.MaxValue);
                    BitmapDirectorySize = CheckedLong(BinaryPrimitives.ReadUInt64BigEndian(data[8..]), path, "bitmap_directory_size");
                    BitmapDirectoryOffset = CheckedLong(BinaryPrimitives.ReadUInt64BigEndian(data[16..]), path, "bitmap_directory_offset");
                    break;
                case ExtFullDiskEncryption:
                    HasEncryptionHeader = true;
                    break;
            }
            offset = dataStart + ((length + 7L) & ~7L);
        }
        if (BackingFileOffset != 0)
        {
            var b = reader.Ensure((int)(BackingFileOffset + BackingFileSize), path);
            BackingFile = ReadName(b.Slice((int)BackingFileOffset, BackingFileSize), path, "backing file name");
        }
    }

    private void Validate(long fileLength, string path)
    {
        var unknown = IncompatibleFeatures & ~IncompatKnown;
        if (unknown != 0)
        {
            var bit = System.Numerics.BitOperations.TrailingZeroCount(unknown);
            var name = featureNames.TryGetValue((0, bit), out var n) ? $"'{n}'" : $"bit {bit}";
            throw new VzDiskUnsupportedException(path, $"the unknown incompatible feature {name}", "open");
        }
        if ((IncompatibleFeatures & IncompatExternalDataFile) != 0 || ExternalDataFile is not null)
            throw new VzDiskUnsupportedException(path, "an external data file", "open");
        if ((IncompatibleFeatures & IncompatCompressionType) != 0)
        {
            if (CompressionType > 1) throw new VzDiskUnsupportedException(path, $"compression type {CompressionType}", "open");
        }
        else if (CompressionType != 0)
            throw Corrupt(path, "compression_type is set but the compression type feature bit is not");
        if (CryptMethod > 2) throw new VzDiskUnsupportedException(path, $"encryption method {CryptMethod}", "open");
        if (Version == 2 && RefcountOrder != 4) throw Corrupt(path, "version 2 images have 16-bit refcounts");

        var clusterMask = ClusterSize - 1;
        // The active L1 table must be big enough for the virtual size and lie inside the file.
        var needL1 = L1EntriesFor(Size, ClusterBits, ExtendedL2);
        if ((long)L1Size * 8 > MaxL1Bytes) throw Corrupt(path, $"l1_size {L1Size} exceeds the 32 MiB limit");
        if (needL1 > L1Size) throw Corrupt(path, $"the L1 table ({L1Size} entries) is too small for the virtual size {Size}");
        if (L1Size > 0) CheckTable(L1TableOffset, (long)L1Size * 8, fileLength, clusterMask, path, "the L1 table");

        if (RefcountTableClusters == 0) throw Corrupt(path, "the image has no refcount table");
        if ((long)RefcountTableClusters * ClusterSize > MaxRefcountTableBytes)
            throw Corrupt(path, $"refcount_table_clusters {RefcountTableClusters} exceeds the 8 MiB limit");
        CheckTable(RefcountTableOffset, RefcountTableClusters * ClusterSize, fileLength, clusterMask, path, "the refcount table");

        if (SnapshotCount > MaxSnapshots) throw Corrupt(path, $"{SnapshotCount} snapshots exceed the limit of {MaxSnapshots}");
        if (SnapshotCount > 0) CheckTable(SnapshotsOffset, (long)SnapshotCount * 40, fileLength, clusterMask, path, "the snapshot table");
        if (HasBitmaps && BitmapDirectorySize > 0)
            CheckTable(BitmapDirectoryOffset, BitmapDirectorySize, fileLength, clusterMask, path, "the bitmap directory");
    }

    /// <summary>An offset and a length that must be cluster-aligned and lie wholly inside the file.</summary>
    internal static void CheckTable(long offset, long length, long fileLength, long clusterMask, string path, string what)
    {
        if (offset == 0 || (offset & clusterMask) != 0) throw Corrupt(path, $"{what} at offset {offset} is not cluster aligned");
        if (length < 0 || offset > fileLength || length > fileLength - offset)
            throw Corrupt(path, $"{what} (offset {offset}, {length} bytes) extends past the end of the file ({fileLength} bytes)");
    }

    private static string ReadName(ReadOnlySpan<byte> data, string path, string what)
    {
        if (data.Length > MaxBackingFileNameLength) throw Corrupt(path, $"the {what} is longer than {MaxBackingFileNameLength} bytes");
        var s = Encoding.UTF8.GetString(data);
        var nul = s.IndexOf('\0');
        return nul >= 0 ? s[..nul] : s;
    }

    private static long CheckedLong(ulong value, string path, string field) =>
        value <= long.MaxValue / 2 ? (long)value : throw Corrupt(path, $"{field} {value} is out of range");

    internal static VzDiskCorruptException Corrupt(string path, string detail) => new(path, detail);

    /// <summary>Reads the first cluster lazily: most images need only a few hundred bytes of it.</summary>
    private sealed class HeaderReader(SafeFileHandle file, long fileLength)
    {
        private byte[] buffer = [];
        private int valid;
        public long FileLength => fileLength;

        public ReadOnlySpan<byte> Ensure(int needed, string path)
        {
            if (needed <= valid) return buffer.AsSpan(0, valid);
            if (needed > fileLength) throw Corrupt(path, $"the header needs {needed} bytes but the file has {fileLength}");
            var want = (int)Math.Min(fileLength, Math.Max(needed, Math.Max(4096, valid * 2L)));
            want = Math.Min(want, 2 << 20); // never more than the largest cluster
            if (needed > want) throw Corrupt(path, "the header area is larger than the first cluster");
            var next = new byte[want];
            buffer.AsSpan(0, valid).CopyTo(next);
            while (valid < want)
            {
                var n = RandomAccess.Read(file, next.AsSpan(valid, want - valid), valid);
                if (n <= 0) break;
                valid += n;
            }
            buffer = next;
            if (needed > valid) throw Corrupt(path, "the file ended inside the header");
            return buffer.AsSpan(0, valid);
        }
    }
}
