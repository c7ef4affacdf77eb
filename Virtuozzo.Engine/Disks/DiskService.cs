using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Qcow2;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Disks;

/// <summary>
/// Disk images: describe, create, resize and check natively (the qcow2 code in <c>Qcow2/</c>); compact and convert
/// through qemu-img, replacing the original atomically only when qemu-img succeeded.
/// </summary>
public sealed class DiskService(VzPaths paths, VeStore store, QemuImgDriver qemuImg, GuestFileSystemResizer guestResizer, ILogger<DiskService> logger)
{
    /// <summary>Set by the VM service: resizes disks that a running VM holds open.</summary>
    public IOnlineDiskResizer? OnlineResizer { get; set; }

    /// <summary>Describes one image. <paramref name="veCache"/> lets a listing read each VE's config once.</summary>
    public DiskInfo Get(string path, IDictionary<Guid, VeRecord?>? veCache = null, CancellationToken cancellationToken = default)
    {
        path = Path.GetFullPath(path);
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try { handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite); }
        catch (FileNotFoundException) { throw NotFound(path); }
        catch (DirectoryNotFoundException) { throw NotFound(path); }
        var (veId, veName) = OwningVe(path, veCache);
        if (!Qcow2Header.HasMagic(handle))
        {
            using (handle)
            {
                var length = RandomAccess.GetLength(handle);
                var actual = HostFile.AllocatedBytes(path);
                return new DiskInfo
                {
                    Path = path, Format = "raw", VirtualSize = length, FileSize = length, ActualSize = actual,
                    AllocatedSize = Math.Min(actual, length), VeId = veId, VeName = veName,
                };
            }
        }
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
        var path = Path.GetFullPath(options.Path);
        if (File.Exists(path) || Directory.Exists(path))
            throw new VzAlreadyExistsException("VzDiskAlreadyExists", $"The file '{path}' already exists.", path)
            { RecommendedAction = "Choose another path, or remove the file first." };
        var dir = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(dir))
            throw new VzNotFoundException("VzDiskDirectoryNotFound", $"The folder '{dir}' does not exist.", dir)
            { RecommendedAction = "Create the folder first." };

        string? backingName = null, backingFormat = null;
        var size = options.Size;
        if (options.BackingDisk is { } backing)
        {
            var full = Path.GetFullPath(backing, dir);
            if (!File.Exists(full))
                throw new VzNotFoundException("VzDiskBackingNotFound", $"The backing disk '{full}' does not exist.", full);
            var info = Get(full, cancellationToken: cancellationToken);
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
    public async Task<DiskInfo> ResizeAsync(string path, long newSize, bool allowShrink = false, bool resizeGuestFileSystem = false,
        CancellationToken cancellationToken = default)
    {
        path = Path.GetFullPath(path);
        if (!File.Exists(path)) throw NotFound(path);
        var before = Get(path, cancellationToken: cancellationToken);
        if (resizeGuestFileSystem && newSize < before.VirtualSize)
            throw new VzInvalidArgumentException("VzDiskGuestShrinkNotSupported", "-ResizeGuestFileSystem only grows; shrink the file system inside the guest first.", path, "ResizeGuestFileSystem");
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
        if (resizeGuestFileSystem) await guestResizer.GrowLastPartitionAsync(path, before.Format, cancellationToken);
        return Get(path, cancellationToken: cancellationToken);
    }

    /// <summary>Checks a qcow2 image; with <paramref name="repairLeaks"/> gives leaked clusters back.</summary>
    public DiskCheckResult Test(string path, bool repairLeaks, CancellationToken cancellationToken = default)
    {
        path = Path.GetFullPath(path);
        if (!File.Exists(path)) throw NotFound(path);
        if (repairLeaks)
        {
            using var image = OpenExclusive(path, out var raw);
            if (image is null) { raw!.Dispose(); throw new VzDiskUnsupportedException(path, "the raw format (it has no metadata)", "check"); }
            return Qcow2Checker.Check(image, repairLeaks: true, cancellationToken);
        }
        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            if (!Qcow2Header.HasMagic(handle)) throw new VzDiskUnsupportedException(path, "the raw format (it has no metadata)", "check");
        // A check of an image QEMU is writing would report its in-flight metadata as damage: refuse it, like
        // qemu-img check does. Without write access to the file there is no lock to probe; the check still runs.
        Qcow2Image ro;
        try
        {
            ro = Qcow2Image.Open(path, writable: true);
            if (!TryLock(ro.Handle)) { ro.Dispose(); throw InUse(path); }
        }
        catch (UnauthorizedAccessException) { ro = Qcow2Image.Open(path); }
        using (ro) return Qcow2Checker.Check(ro, repairLeaks: false, cancellationToken);
    }

    /// <summary>Compacts a qcow2 image (drops unused clusters) by rewriting it with qemu-img, keeping its settings
    /// and backing file.</summary>
    public Task<DiskInfo> OptimizeAsync(string path, IProgress<VzProgress>? progress, CancellationToken cancellationToken = default) =>
        ConvertAsync(path, DiskFormat.Qcow2, destination: null, progress, $"Compacting {path}", cancellationToken);

    /// <summary>Converts to another format: into <paramref name="destination"/>, or in place when it is null.</summary>
    public async Task<DiskInfo> ConvertAsync(string path, DiskFormat format, string? destination, IProgress<VzProgress>? progress,
        string? activity = null, CancellationToken cancellationToken = default)
    {
        path = Path.GetFullPath(path);
        var source = Get(path, cancellationToken: cancellationToken);
        if (source.Encrypted) throw new VzDiskUnsupportedException(path, "encryption", "convert");
        // qemu-img convert copies the current state only: rewriting in place would silently drop the snapshots.
        if (source.SnapshotCount > 0 && destination is null)
            throw new VzDiskUnsupportedException(path, $"{source.SnapshotCount} internal snapshots (a rewrite in place would drop them)", "rewrite");
        var target = destination is null ? path : Path.GetFullPath(destination);
        if (destination is not null && File.Exists(target))
            throw new VzAlreadyExistsException("VzDiskAlreadyExists", $"The file '{target}' already exists.", target);
        EnsureNotInUse(path);

        var options = new List<string>();
        string? backing = null, backingFormat = null;
        if (format == DiskFormat.Qcow2 && source.Format == "qcow2")
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
            await qemuImg.ConvertAsync(path, temp, format, options, backing, backingFormat, progress,
                activity ?? $"Converting {path} to {format.ToString().ToLowerInvariant()}", cancellationToken);
            using (var fs = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite)) fs.Flush(flushToDisk: true);
            File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
            File.Move(temp, target, overwrite: destination is null);
            AtomicFile.SyncDirectory(dir);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
        return Get(target, cancellationToken: cancellationToken);
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

    private static VzNotFoundException NotFound(string path) =>
        new("VzDiskNotFound", $"The disk image '{path}' does not exist.", path) { RecommendedAction = "Check the path; Get-VzDisk accepts wildcards." };

    private static VzInvalidStateException InUse(string path) =>
        new("VzDiskInUse", $"The disk image '{path}' is open in a QEMU process (a running VM or a qemu-img job).", path)
        { RecommendedAction = "Stop the VM or wait for the job to finish, then try again." };
}
