using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Disks.Compact;
using Virtuozzo.Engine.Disks.Formats;
using Virtuozzo.Engine.Disks.Safety;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Qcow2;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Disks;

/// <summary>
/// Disk images: describe, create, resize and check natively (the qcow2 code in <c>Qcow2/</c>); compact and convert
/// through qemu-img, replacing the original atomically only when qemu-img succeeded. Every path passes the
/// <see cref="DiskPathGate"/> first: what it resolved and recognised is what the operation then acts on. Images in
/// other formats (VMDK, VHDX, VDI...) are described, checked and converted through qemu-img with their format named
/// explicitly, never probed by qemu-img.
/// </summary>
public sealed class DiskService(VzPaths paths, VeStore store, QemuImgDriver qemuImg, GuestFileSystemResizer guestResizer,
    GuestFileSystemTrimmer trimmer, GuestFileSystemShrinker shrinker, ILogger<DiskService> logger)
{
    /// <summary>Set by the VM service: resizes disks that a running VM holds open.</summary>
    public IOnlineDiskResizer? OnlineResizer { get; set; }

    /// <summary>Set by the VM service: grows disks that a running VM holds open together with what is on them, in the guest.</summary>
    public IOnlineGuestDiskResizer? OnlineGuestResizer { get; set; }

    /// <summary>Set by the VM service: compacts disks that a running VM holds open (guest-fstrim).</summary>
    public IOnlineDiskCompactor? OnlineCompactor { get; set; }

    /// <summary>Describes one image. <paramref name="veCache"/> lets a listing read each VE's config once.</summary>
    public DiskInfo Get(string path, IDictionary<Guid, VeRecord?>? veCache = null, CancellationToken cancellationToken = default, bool allowBlockDevice = false) =>
        Describe(DiskPathGate.Check(path, DiskUse.Read, allowBlockDevice), veCache, cancellationToken);

    /// <summary>Describes an image the gate let through: natively for qcow2 and raw, through qemu-img otherwise.</summary>
    private DiskInfo Describe(DiskTarget target, IDictionary<Guid, VeRecord?>? veCache, CancellationToken cancellationToken)
    {
        var path = target.Path;
        var (veId, veName) = OwningVe(path, veCache);
        if (target.Format == DiskFormat.Raw)
        {
            var length = target.Length;
            var actual = target.IsBlockDevice ? length : HostFile.AllocatedBytes(path);
            return new DiskInfo
            {
                Path = path, Format = "raw", VirtualSize = length, FileSize = length, ActualSize = actual,
                AllocatedSize = Math.Min(actual, length), VeId = veId, VeName = veName,
            };
        }
        if (target.Format != DiskFormat.Qcow2)
        {
            var q = qemuImg.InfoAsync(path, target.Format, cancellationToken).GetAwaiter().GetResult();
            var actual = HostFile.AllocatedBytes(path);
            return new DiskInfo
            {
                Path = path, Format = target.QemuFormat, VirtualSize = q.VirtualSize, FileSize = target.Length, ActualSize = actual,
                AllocatedSize = Math.Min(actual, q.VirtualSize), ClusterSize = q.ClusterSize,
                BackingFile = q.BackingFile, BackingFormat = q.BackingFormat,
                FullBackingFile = q.FullBackingFile ?? (q.BackingFile is { } qb ? Path.GetFullPath(qb, Path.GetDirectoryName(path)!) : null),
                IsDirty = q.IsDirty, IsCorrupt = q.IsCorrupt, Encrypted = q.Encrypted || target.Format == DiskFormat.Luks, VeId = veId, VeName = veName,
            };
        }
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var image = Qcow2Image.FromHandle(handle, path);
        var h = image.Header;
        var map = Qcow2AllocationMap.Compute(image, cancellationToken);
        return new DiskInfo
        {
            Path = path, Format = "qcow2", VirtualSize = h.Size, FileSize = image.FileLength, ActualSize = HostFile.AllocatedBytes(path),
            AllocatedSize = Math.Min(map.AllocatedBytes, RoundUp(h.Size, h.ClusterSize)), ClusterSize = h.ClusterSize, Compat = h.Compat,
            BackingFile = h.BackingFile, BackingFormat = h.BackingFormat,
            FullBackingFile = h.BackingFile is { } b ? Path.GetFullPath(b, Path.GetDirectoryName(path)!) : null,
            IsDirty = h.IsDirty, IsCorrupt = h.IsCorrupt, SnapshotCount = h.SnapshotCount, RefcountBits = h.RefcountBits,
            LazyRefcounts = h.LazyRefcounts, ExtendedL2 = h.ExtendedL2, CompressionType = h.CompressionTypeName,
            Encrypted = h.CryptMethod != 0, VeId = veId, VeName = veName,
        };
    }

    /// <summary>Creates a qcow2 image natively; nothing is left behind when it fails.</summary>
    public DiskInfo Create(DiskCreateOptions options, CancellationToken cancellationToken = default)
    {
        var path = DiskPathGate.CheckNewPath(options.Path);
        var dir = Path.GetDirectoryName(path)!;
        if (options.Size is { } given) DiskSizes.Require(given, path, "Size");

        string? backingName = null, backingFormat = null;
        var size = options.Size;
        if (options.BackingDisk is { } backing)
        {
            var requested = Path.GetFullPath(backing, dir);
            if (FileNode.Of(requested, followLinks: false).Kind == FileNodeKind.Missing)
                throw new VzNotFoundException("VzDiskBackingNotFound", $"The backing disk '{requested}' does not exist.", requested);
            var gated = DiskPathGate.Check(requested, DiskUse.Read, parameterName: "BackingDisk");
            var full = gated.Path;
            var info = Describe(gated, null, cancellationToken);
            backingFormat = info.Format;
            backingName = options.RelativeBackingPath ? Path.GetRelativePath(dir, full) : full;
            size ??= info.VirtualSize;
            if (size < info.VirtualSize)
                throw new VzInvalidArgumentException("VzDiskSizeOutOfRange", $"The size {size} is smaller than the backing disk ({info.VirtualSize} bytes).", path, "Size");
        }
        if (size is null)
            throw new VzInvalidArgumentException("VzDiskSizeRequired", "Give -Size, or -BackingDisk to take the backing disk's size.", path, "Size");

        Qcow2Creator.Create(path, new Qcow2CreateOptions
        {
            VirtualSize = size.Value, ClusterSize = options.ClusterSize, Compat = options.Compat, LazyRefcounts = options.LazyRefcounts,
            RefcountBits = options.RefcountBits, Preallocation = options.Preallocation, BackingFile = backingName, BackingFormat = backingFormat,
        }, cancellationToken);
        logger.LogInformation("created {Path} ({Size} bytes)", path, size);
        return Get(path, cancellationToken: cancellationToken);
    }

    /// <summary>Resizes a disk: online through the VM that has it open, else offline in place.</summary>
    /// <param name="path">The image.</param>
    /// <param name="newSize">New virtual size in bytes.</param>
    /// <param name="allowShrink">Permit a smaller size (still refused over data).</param>
    /// <param name="resizeGuestFileSystem">After growing, grow the last partition and its file system too.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public Task<DiskInfo> ResizeAsync(string path, long newSize, bool allowShrink = false, bool resizeGuestFileSystem = false,
        CancellationToken cancellationToken = default) => ResizeAsync(path, newSize, allowShrink, resizeGuestFileSystem, null, cancellationToken);

    /// <summary>As above; <paramref name="logicalVolume"/> names the LVM logical volume to grow when the last
    /// partition is a physical volume (default: the one that ends the volume group's used space).</summary>
    public async Task<DiskInfo> ResizeAsync(string path, long newSize, bool allowShrink, bool resizeGuestFileSystem, string? logicalVolume,
        CancellationToken cancellationToken)
    {
        if (logicalVolume is not null && !resizeGuestFileSystem)
            throw new VzInvalidArgumentException("VzLogicalVolumeWithoutResize", "-LogicalVolume says which LV -ResizeGuestFileSystem grows; give both.", path, "LogicalVolume");
        var target = DiskPathGate.Check(path, DiskUse.RewriteInPlace);
        path = target.Path;
        if (target.Format is not (DiskFormat.Qcow2 or DiskFormat.Raw or DiskFormat.Qed))
            throw new VzDiskFormatUnsupportedException(path, target.Format, "resize (qemu-img cannot either)");
        var before = Describe(target, null, cancellationToken);
        if (target.Format == DiskFormat.Qed)
        {
            if (newSize < before.VirtualSize) throw new VzDiskFormatUnsupportedException(path, target.Format, "shrink");
            if (resizeGuestFileSystem) throw new VzDiskFormatUnsupportedException(path, target.Format, "grow a guest file system in");
            EnsureNotInUse(path);
            await qemuImg.ResizeAsync(path, target.Format, newSize, cancellationToken);
            logger.LogInformation("resized {Path} to {Size} bytes", path, newSize);
            return Get(path, cancellationToken: cancellationToken);
        }
        if (resizeGuestFileSystem && newSize < before.VirtualSize)
            return await ShrinkWithGuestFileSystemAsync(target, newSize, allowShrink, logicalVolume, cancellationToken);
        if (resizeGuestFileSystem && OnlineGuestResizer is { } guest && await guest.TryResizeWithGuestAsync(path, newSize, logicalVolume, cancellationToken))
            return Get(path, cancellationToken: cancellationToken);
        if (OnlineResizer is { } online && await online.TryResizeOnlineAsync(path, newSize, cancellationToken))
        {
            if (resizeGuestFileSystem)
                throw new VzInvalidStateException("VzDiskGuestResizeWhileRunning", $"The disk '{path}' was resized online; its file system must be grown inside the running guest.", path);
            return Get(path, cancellationToken: cancellationToken);
        }

        using (var image = OpenExclusive(path, out var raw))
        {
            if (image is null)
            {
                if (newSize < raw!.Length && !allowShrink)
                    throw new VzInvalidArgumentException("VzDiskShrinkNotAllowed", $"{newSize} bytes is smaller than the current size; shrinking needs -Shrink.", path, "Size");
                if (newSize < raw.Length) throw new VzDiskUnsupportedException(path, "the raw format (shrinking cannot tell data from free space)", "shrink");
                raw.SetLength(newSize);
                raw.Flush(flushToDisk: true);
                raw.Dispose();
            }
            else
            {
                Qcow2Resizer.Resize(image, newSize, allowShrink, b => BackingSize(path, b), cancellationToken);
            }
        }
        logger.LogInformation("resized {Path} to {Size} bytes", path, newSize);
        if (resizeGuestFileSystem) await guestResizer.GrowLastPartitionAsync(path, before.Format, logicalVolume, cancellationToken);
        return Get(path, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Shrinks a closed qcow2 image together with what is on it: the ext2/3/4 file system in the last partition or in
    /// the LVM logical volume that ends its volume group, that LV and PV, and the partition; then cuts the image. XFS,
    /// an LV followed by another, and a disk a running VM has open (the file system would be mounted) are refused
    /// before anything changes.
    /// </summary>
    private async Task<DiskInfo> ShrinkWithGuestFileSystemAsync(DiskTarget target, long newSize, bool allowShrink, string? logicalVolume, CancellationToken cancellationToken)
    {
        var path = target.Path;
        if (!allowShrink)
            throw new VzInvalidArgumentException("VzDiskShrinkNotAllowed", $"{newSize} bytes is smaller than the current size; shrinking needs -Shrink.", path, "Size");
        if (target.Format != DiskFormat.Qcow2)
            throw new VzDiskUnsupportedException(path, "the raw format (shrinking cannot tell data from free space)", "shrink");
        // A running VM's disk: its file system is mounted and cannot shrink; the online resizer says so (VzDiskOnlineShrinkRefused).
        if (OnlineResizer is { } online && await online.TryResizeOnlineAsync(path, newSize, cancellationToken))
            throw new VzInvalidStateException("VzDiskGuestResizeWhileRunning", $"The disk '{path}' is open in a running VM; its file system cannot shrink while mounted.", path);
        EnsureNotInUse(path);
        var gpt = await shrinker.ShrinkLastPartitionAsync(path, newSize, logicalVolume, cancellationToken);
        using (var image = OpenExclusive(path, out var raw))
        {
            raw?.Dispose();
            Qcow2Resizer.Resize(image!, newSize, allowShrink: true, b => BackingSize(path, b), cancellationToken);
        }
        if (gpt is not null) await shrinker.RewriteGptAsync(path, gpt, cancellationToken);
        logger.LogInformation("shrank {Path} and its guest file system to {Size} bytes", path, newSize);
        return Get(path, cancellationToken: cancellationToken);
    }

    /// <summary>Checks an image: qcow2 natively, QED/VDI/VHDX/VMDK/Parallels through qemu-img check; with
    /// <paramref name="repairLeaks"/> gives a qcow2 image's leaked clusters back.</summary>
    public DiskCheckResult Test(string path, bool repairLeaks, CancellationToken cancellationToken = default)
    {
        var target = DiskPathGate.Check(path, repairLeaks ? DiskUse.RewriteInPlace : DiskUse.Read);
        path = target.Path;
        if (target.Format == DiskFormat.Raw) throw new VzDiskUnsupportedException(path, "the raw format (it has no metadata)", "check");
        if (target.Format != DiskFormat.Qcow2)
        {
            if (!DiskFormats.CanCheck(target.Format)) throw new VzDiskFormatUnsupportedException(path, target.Format, "check (qemu-img cannot either)");
            if (repairLeaks) throw new VzDiskFormatUnsupportedException(path, target.Format, "repair");
            var (exitCode, json) = qemuImg.CheckAsync(path, target.Format, cancellationToken).GetAwaiter().GetResult();
            return QemuImgCheck.Parse(json, exitCode, path, target.QemuFormat);
        }
        if (repairLeaks)
        {
            using var image = OpenExclusive(path, out var raw);
            if (image is null) { raw!.Dispose(); throw new VzDiskUnsupportedException(path, "the raw format (it has no metadata)", "check"); }
            return ToDiskCheck(Qcow2Checker.Check(image, repairLeaks: true, cancellationToken));
        }
        // A check of an image QEMU is writing would report its in-flight metadata as damage: refuse it, like
        // qemu-img check does. Without write access to the file there is no lock to probe; the check still runs.
        Qcow2Image ro;
        try
        {
            ro = Qcow2Image.Open(path, writable: true);
            if (!TryLock(ro.Handle)) { ro.Dispose(); throw InUse(path); }
        }
        catch (UnauthorizedAccessException) { ro = Qcow2Image.Open(path); }
        using (ro) return ToDiskCheck(Qcow2Checker.Check(ro, repairLeaks: false, cancellationToken));
    }

    /// <summary>
    /// Compacts a qcow2 image (prl_disk_tool compact). A running VM's image: its guest agent trims the guest's file
    /// systems and QEMU frees the discarded clusters. A closed image: the free blocks of every file system in it
    /// (partitions and LVM logical volumes, ext2/3/4 and XFS) are discarded, then the image is rewritten with
    /// qemu-img without its unused and zero clusters, keeping its settings and backing file. Any other format is
    /// refused (compacting is not converting), and so are internal snapshots, which the rewrite would drop.
    /// </summary>
    public async Task<DiskCompactResult> OptimizeAsync(string path, IProgress<VzProgress>? progress, CancellationToken cancellationToken = default)
    {
        var target = DiskPathGate.Check(path, DiskUse.RewriteInPlace);
        path = target.Path;
        if (target.Format != DiskFormat.Qcow2) throw new VzDiskFormatUnsupportedException(path, target.Format, "compact");
        var before = Describe(target, null, cancellationToken);
        if (before.SnapshotCount > 0)
            throw new VzDiskUnsupportedException(path, $"{before.SnapshotCount} internal snapshots (compacting rewrites the image, and the rewrite would drop them)", "compact")
            { RecommendedAction = "Remove the internal snapshots first (qemu-img snapshot -l lists them), or keep the image as it is." };
        if (before.Encrypted) throw new VzDiskUnsupportedException(path, "encryption", "compact");
        var activity = $"Compacting {path}";

        if (OnlineCompactor is { } online && await online.TryTrimOnlineAsync(path, cancellationToken) is { } done)
        {
            var now = Get(path, cancellationToken: cancellationToken);
            progress?.Report(new VzProgress(activity, "Trimmed through the guest agent", 100, Completed: true));
            logger.LogInformation("compacted {Path} online through '{Vm}': {Before} -> {After} bytes", path, done.VmName, before.ActualSize, now.ActualSize);
            return new DiskCompactResult
            {
                Path = path, Mode = DiskCompactMode.Online, VmName = done.VmName, FileSystems = done.Trimmed, Disk = now,
                BytesBefore = before.ActualSize, BytesAfter = now.ActualSize, FileSizeBefore = before.FileSize, FileSizeAfter = now.FileSize,
            };
        }

        EnsureNotInUse(path);
        var report = await trimmer.TrimAsync(path, progress, cancellationToken);
        // The trim reported 0-50 %, qemu-img's rewrite takes the rest.
        var after = await ConvertAsync(target, DiskFormat.Qcow2, destination: null, progress is null ? null : new ScaledProgress(progress, 50, 100), activity, cancellationToken);
        logger.LogInformation("compacted {Path} offline: {Before} -> {After} bytes", path, before.ActualSize, after.ActualSize);
        return new DiskCompactResult
        {
            Path = path, Mode = DiskCompactMode.Offline, FileSystems = report.Trimmed, Skipped = report.Skipped, Disk = after,
            BytesBefore = before.ActualSize, BytesAfter = after.ActualSize, FileSizeBefore = before.FileSize, FileSizeAfter = after.FileSize,
        };
    }

    /// <summary>
    /// Converts to another format: into <paramref name="destination"/>, or in place when it is null. In place acts
    /// on a symlink's target (the link stays a link); a block device is read only with a destination and
    /// <paramref name="allowBlockDevice"/>.
    /// </summary>
    public Task<DiskInfo> ConvertAsync(string path, DiskFormat format, string? destination, IProgress<VzProgress>? progress,
        string? activity = null, CancellationToken cancellationToken = default, bool allowBlockDevice = false)
    {
        var target = DiskPathGate.Check(path, destination is null ? DiskUse.RewriteInPlace : DiskUse.Read, allowBlockDevice);
        return ConvertAsync(target, format, destination, progress, activity, cancellationToken);
    }

    private async Task<DiskInfo> ConvertAsync(DiskTarget gated, DiskFormat format, string? destination, IProgress<VzProgress>? progress,
        string? activity, CancellationToken cancellationToken)
    {
        var path = gated.Path;
        if (!DiskFormats.CanWrite(format))
            throw new VzInvalidArgumentException("VzDiskFormatNotWritable", $"qemu-img reads the {DiskFormats.DisplayName(format)} format but does not write it.", path, "Format")
            { RecommendedAction = "Convert to Qcow2 (or Raw, Vmdk, Vhdx, Vpc, Vdi, Parallels, Qed, Qcow)." };
        var source = Describe(gated, null, cancellationToken);
        if (source.Encrypted) throw new VzDiskUnsupportedException(path, "encryption", "convert");
        // qemu-img convert copies the current state only: rewriting in place would silently drop the snapshots.
        if (source.SnapshotCount > 0 && destination is null)
            throw new VzDiskUnsupportedException(path, $"{source.SnapshotCount} internal snapshots (a rewrite in place would drop them)", "rewrite");
        var target = destination is null ? path : DiskPathGate.CheckNewPath(destination, "DestinationPath");
        if (!gated.IsBlockDevice) EnsureNotInUse(path);

        var options = new List<string>();
        string? backing = null, backingFormat = null;
        if (format == DiskFormat.Qcow2 && gated.Format == DiskFormat.Qcow2)
        {
            options.Add($"compat={source.Compat}");
            options.Add($"cluster_size={source.ClusterSize}");
            if (source.RefcountBits is { } bits) options.Add($"refcount_bits={bits}");
            if (source.LazyRefcounts) options.Add("lazy_refcounts=on");
            if (source.ExtendedL2) options.Add("extended_l2=on");
            if (source.CompressionType == "zstd") options.Add("compression_type=zstd");
            // Keep an overlay an overlay: only its own clusters are copied.
            backing = destination is null ? source.BackingFile : source.FullBackingFile;
            backingFormat = source.BackingFormat;
        }
        var dir = Path.GetDirectoryName(target)!;
        var temp = Path.Combine(dir, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.vz-tmp");
        try
        {
            await qemuImg.ConvertAsync(path, gated.Format, temp, format, options, backing, backingFormat, progress,
                activity ?? $"Converting {path} to {DiskFormats.QemuName(format)}", cancellationToken);
            using (var fs = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite)) fs.Flush(flushToDisk: true);
            if (!gated.IsBlockDevice) File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
            File.Move(temp, target, overwrite: destination is null);
            AtomicFile.SyncDirectory(dir);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
        // The format just written is known: a raw result is described as raw whatever its first bytes look like.
        return Describe(DiskPathGate.Check(target, DiskUse.Read, declaredFormat: format), null, cancellationToken);
    }

    private static void EnsureNotInUse(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        if (!TryLock(handle)) throw InUse(path);
    }

    /// <summary>Opens for writing under QEMU's lock bytes; null with <paramref name="raw"/> set for non-qcow2 files.</summary>
    private static Qcow2Image? OpenExclusive(string path, out FileStream? raw)
    {
        raw = null;
        bool isQcow2;
        using (var probe = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)) isQcow2 = Qcow2Header.HasMagic(probe);
        if (!isQcow2)
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1, FileOptions.None);
            if (!TryLock(stream.SafeFileHandle)) { stream.Dispose(); throw InUse(path); }
            raw = stream;
            return null;
        }
        var image = Qcow2Image.Open(path, writable: true);
        if (!TryLock(image.Handle)) { image.Dispose(); throw InUse(path); }
        return image;
    }

    /// <summary>
    /// A lock can look taken for a moment after a handle closed when another thread forked a child that has not
    /// exec'd yet (the child shares the open file description until then): retry briefly before calling it in use.
    /// </summary>
    private static bool TryLock(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (Qcow2FileLock.TryLockExclusive(handle)) return true;
            if (attempt == 10) return false;
            Thread.Sleep(50);
        }
    }

    private long? BackingSize(string imagePath, string backing)
    {
        try { return Get(Path.GetFullPath(backing, Path.GetDirectoryName(imagePath)!)).VirtualSize; }
        catch (VzException ex) { logger.LogDebug("backing file {Backing} unreadable: {Message}", backing, ex.Message); return null; }
        catch (IOException) { return null; }
    }

    /// <summary>One index of VM disks kept outside their VE folder (-DiskPath), built once per listing.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, Dictionary<string, (Guid, string)>> externalIndexes = new();

    private (Guid?, string?) ExternalOwner(string path, IDictionary<Guid, VeRecord?>? cache)
    {
        Dictionary<string, (Guid, string)> Build()
        {
            var index = new Dictionary<string, (Guid, string)>(StringComparer.Ordinal);
            foreach (var r in store.List())
                foreach (var d in r.Config?.Vm?.Disks ?? [])
                    if (Path.IsPathRooted(d.Path)) index.TryAdd(Path.GetFullPath(d.Path), (r.Id, r.Config!.Name));
            return index;
        }
        var map = cache is null ? Build() : externalIndexes.GetValue(cache, _ => Build());
        return map.TryGetValue(path, out var owner) ? (owner.Item1, owner.Item2) : (null, null);
    }

    private (Guid?, string?) OwningVe(string path, IDictionary<Guid, VeRecord?>? cache)
    {
        var root = paths.PrivateRoot + Path.DirectorySeparatorChar;
        if (!path.StartsWith(root, StringComparison.Ordinal)) return ExternalOwner(path, cache);
        var rest = path.AsSpan(root.Length);
        var slash = rest.IndexOf(Path.DirectorySeparatorChar);
        if (slash <= 0 || !Guid.TryParseExact(rest[..slash], "D", out var id)) return (null, null);
        if (cache is null || !cache.TryGetValue(id, out var record))
        {
            record = store.TryGet(id);
            if (cache is not null) cache[id] = record;
        }
        return record is null ? (null, null) : (id, record.Config?.Name);
    }

    private static long RoundUp(long value, long unit) => (value + unit - 1) / unit * unit;

    private static DiskCheckResult ToDiskCheck(Qcow2CheckResult r) => new()
    {
        Path = r.Path, Format = "qcow2", Corruptions = r.Corruptions, Leaks = r.Leaks, CheckErrors = r.CheckErrors, LeaksFixed = r.LeaksFixed,
        TotalClusters = r.TotalClusters, AllocatedClusters = r.AllocatedClusters, FragmentedClusters = r.FragmentedClusters,
        CompressedClusters = r.CompressedClusters, ImageEndOffset = r.ImageEndOffset, Messages = r.Messages,
    };

    private static VzInvalidStateException InUse(string path) =>
        new("VzDiskInUse", $"The disk image '{path}' is open in a QEMU process (a running VM or a qemu-img job).", path)
        { RecommendedAction = "Stop the VM or wait for the job to finish, then try again." };
}
