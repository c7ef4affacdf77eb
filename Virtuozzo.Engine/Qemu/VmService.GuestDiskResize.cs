using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Qemu.GuestDisks;
using Virtuozzo.Engine.Qemu.Process;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Online Resize-VzDisk -ResizeGuestFileSystem: block_resize, then the guest grows what is on the disk.</summary>
public sealed partial class VmService : IOnlineGuestDiskResizer
{
    /// <summary>One guest tool run (a resize2fs of a large file system on a slow TCG guest can take minutes).</summary>
    private static readonly TimeSpan GuestToolTimeout = TimeSpan.FromMinutes(10);

    public async Task<bool> TryResizeWithGuestAsync(string path, long newSize, string? logicalVolume, CancellationToken cancellationToken)
    {
        foreach (var record in store.List())
        {
            if (record.Config?.Vm is not { } vm) continue;
            var disk = vm.Disks.FirstOrDefault(d => string.Equals(ResolvePath(record.Id, d.Path), path, StringComparison.Ordinal));
            if (disk is null) continue;
            if (!QemuProcess.Inspect(RuntimePaths(record.Id)).Alive) return false;
            var id = record.Id;
            var grower = new GuestDiskGrower((tool, args, stdin, ct) => Guest.ExecAsync(id, tool, args, stdin, GuestToolTimeout, ct), record.DisplayName, logger);
            // The plan is read and checked first: a refusal (no such LV, an unknown file system) leaves the disk as it was.
            var plan = await grower.PlanAsync(disk.Id, logicalVolume, cancellationToken);
            if (!await TryResizeOnlineAsync(path, newSize, cancellationToken)) return false;
            await grower.WaitForSizeAsync(plan, newSize, TimeSpan.FromSeconds(60), cancellationToken);
            await grower.GrowAsync(plan, cancellationToken);
            logger.LogInformation("Grew disk '{Disk}' of running VM '{Name}' to {Size} bytes and its {Fs} file system in the guest.", disk.Id, record.DisplayName, newSize, plan.FileSystem);
            return true;
        }
        return false;
    }
}
