using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Disks.Safety;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>A VM's disks and DVD drives, hot or cold, and online resize for Resize-VzDisk.</summary>
public sealed partial class VmService
{
    /// <summary>
    /// Adds a new qcow2 disk of <paramref name="size"/>, or attaches <paramref name="existingPath"/> with its own
    /// format driver; with <paramref name="convert"/> the image is first converted into a qcow2 disk in the VM's
    /// folder (the original is only read).
    /// </summary>
    public async Task<VmDiskInfo> AddDiskAsync(Guid id, long size, string? existingPath, bool convert, CancellationToken cancellationToken)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var name = record.DisplayName;
        if (existingPath is null && size == 0)
            throw new VzInvalidArgumentException("VzInvalidDiskSize", "Give -Size for a new disk or -Path for an existing image.", name, "Size");
        if (existingPath is null) DiskSizes.Require(size, name, "Size");
        if (convert && existingPath is null)
            throw new VzInvalidArgumentException("VzConvertWithoutDiskPath", "-Convert converts the image given with -Path.", name, "Convert");
        var source = existingPath is null ? null : GateDisk(existingPath, DiskUse.Attach, "Path", name, convert);
        var rt = RuntimePaths(id);
        using var veLock = store.AcquireVeLock(id, cancellationToken);
        var config = VeConfigFile.Read(paths.VeConfigPath(id));
        var diskId = Enumerable.Range(0, 1000).Select(n => $"disk{n}").First(n => config.Vm!.Disks.All(d => d.Id != n));
        var owned = source is null || convert;
        var disk = owned
            ? new VmDisk { Id = diskId, Path = $"{diskId}.qcow2", Format = "qcow2" }
            : new VmDisk { Id = diskId, Path = source!.Path, Format = source.QemuFormat };
        var full = ResolvePath(id, disk.Path);
        if (owned)
        {
            if (File.Exists(full)) File.Delete(full); // a leftover from an interrupted add, not referenced by the config
            if (source is null) await images.CreateAsync(full, size, cancellationToken);
            else
            {
                try { await images.ConvertAsync(source.Path, full, onPercent: null, cancellationToken, source.QemuFormat); }
                catch { File.Delete(full); throw; }
            }
        }
        try
        {
            if (QemuProcess.Inspect(rt).Alive)
            {
                await using var monitor = await OpenMonitorAsync(rt, name, cancellationToken);
                await DiskHotplug.AddDiskAsync(monitor, disk.Id, full, disk.Format, config.Vm!.Machine, cancellationToken);
            }
            store.UpdateLocked(veLock, id, c => c.Vm!.Disks.Add(disk));
        }
        catch
        {
            if (owned) File.Delete(full);
            throw;
        }
        return DescribeDisk(config, disk);
    }

    public async Task RemoveDiskAsync(Guid id, string diskId, bool keepFile, CancellationToken cancellationToken)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var name = record.DisplayName;
        var rt = RuntimePaths(id);
        using var veLock = store.AcquireVeLock(id, cancellationToken);
        var config = VeConfigFile.Read(paths.VeConfigPath(id));
        var disk = config.Vm!.Disks.FirstOrDefault(d => string.Equals(d.Id, diskId, StringComparison.OrdinalIgnoreCase))
                   ?? throw new VzNotFoundException("VzVmDiskNotFound", $"The VM '{name}' has no disk '{diskId}'.", diskId)
                   { RecommendedAction = $"See its disks with (Get-VzVm '{name}').Disks." };
        if (QemuProcess.Inspect(rt).Alive)
        {
            await using var monitor = await OpenMonitorAsync(rt, name, cancellationToken);
            await DiskHotplug.RemoveDiskAsync(monitor, disk.Id, cancellationToken);
        }
        store.UpdateLocked(veLock, id, c => c.Vm!.Disks.RemoveAll(d => d.Id == disk.Id));
        var full = ResolvePath(id, disk.Path);
        if (!keepFile && full.StartsWith(record.Directory + "/", StringComparison.Ordinal)) File.Delete(full);
    }

    /// <summary>
    /// Resize-VzDisk on an image that a running VM has open: QMP block_resize, so the guest sees the new size at once.
    /// Online shrink is refused, as in Virtuozzo ("online shrink of a VM image is prohibited"). Returns false when no
    /// running VM has the image, and the disk service resizes it offline.
    /// </summary>
    public async Task<bool> TryResizeOnlineAsync(string path, long newSize, CancellationToken cancellationToken)
    {
        foreach (var record in store.List())
        {
            if (record.Config?.Vm is not { } vm) continue;
            var disk = vm.Disks.FirstOrDefault(d => string.Equals(ResolvePath(record.Id, d.Path), path, StringComparison.Ordinal));
            if (disk is null) continue;
            var rt = RuntimePaths(record.Id);
            if (!QemuProcess.Inspect(rt).Alive) return false;
            var (_, current, _) = await images.InfoAsync(path, cancellationToken);
            if (newSize < current)
                throw new VzInvalidStateException("VzDiskOnlineShrinkRefused",
                    $"The disk '{disk.Id}' of the running VM '{record.DisplayName}' cannot shrink while the VM runs.", path)
                { RecommendedAction = "Stop the VM, then shrink the disk with Resize-VzDisk -Shrink." };
            await using (var monitor = await OpenMonitorAsync(rt, record.DisplayName, cancellationToken))
                await monitor.BlockResizeAsync(disk.Id, newSize, cancellationToken);
            logger.LogInformation("Resized disk '{Disk}' of running VM '{Name}' online to {Size} bytes.", disk.Id, record.DisplayName, newSize);
            return true;
        }
        return false;
    }

    public VmInfo AddDvdDrive(Guid id, string? isoPath, CancellationToken cancellationToken)
    {
        var (name, veLock) = StoppedForHardwareChange(id, cancellationToken);
        using (veLock)
        {
            var iso = isoPath is null ? null : GateDisk(isoPath, DiskUse.AttachReadOnly, "Path", name);
            store.UpdateLocked(veLock, id, c =>
            {
                var drives = c.Vm!.DvdDrives;
                if (drives.Count >= (c.Vm.Machine == "pc" ? 2 : 6))
                    throw new VzInvalidArgumentException("VzTooManyDvdDrives", $"The VM '{name}' has no free IDE/SATA port for another DVD drive.", name, "Path");
                var dvdId = Enumerable.Range(0, 10).Select(n => $"cd{n}").First(n => drives.All(d => d.Id != n));
                drives.Add(new VmDvdDrive { Id = dvdId, IsoPath = iso?.Path });
            });
        }
        return Describe(store.TryGet(id)!);
    }

    public VmInfo RemoveDvdDrive(Guid id, string dvdId, CancellationToken cancellationToken)
    {
        var (name, veLock) = StoppedForHardwareChange(id, cancellationToken);
        using (veLock)
        {
            store.UpdateLocked(veLock, id, c =>
            {
                if (c.Vm!.DvdDrives.RemoveAll(d => string.Equals(d.Id, dvdId, StringComparison.OrdinalIgnoreCase)) == 0)
                    throw new VzNotFoundException("VzVmDvdDriveNotFound", $"The VM '{name}' has no DVD drive '{dvdId}'.", dvdId);
            });
        }
        return Describe(store.TryGet(id)!);
    }

    private (string Name, FileLock Lock) StoppedForHardwareChange(Guid id, CancellationToken ct)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var veLock = store.AcquireVeLock(id, ct);
        if (QemuProcess.Inspect(RuntimePaths(id)).Alive)
        {
            veLock.Dispose();
            throw new VzInvalidStateException("VzVmRunning", $"DVD drives are IDE/SATA devices, which QEMU cannot hot-add or hot-remove; the VM '{record.DisplayName}' is running.", record.DisplayName)
            { RecommendedAction = "Stop the VM, change its drives, and start it again." };
        }
        return (record.DisplayName, veLock);
    }
}
