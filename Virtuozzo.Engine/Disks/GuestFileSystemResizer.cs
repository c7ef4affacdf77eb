using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qcow2;

namespace Virtuozzo.Engine.Disks;

/// <summary>
/// Grows the last partition of a closed disk image and what is in it (ext2/3/4, XFS, an LVM physical volume),
/// prl_disk_tool's <c>--resize_partition</c>. This host has no nbd: a qcow2 image is exported as a raw file through
/// qemu-storage-daemon's FUSE export, the partition is grown with sfdisk, and the file system is reached through a
/// loop device at the partition's offset (partition scanning creates no nodes here). Everything set up is torn
/// down in reverse order, also on failure.
/// </summary>
public sealed class GuestFileSystemResizer(VzPaths paths, ProcessRunner runner, ILogger logger)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(10);

    public async Task GrowLastPartitionAsync(string image, string format, CancellationToken cancellationToken) =>
        await GrowLastPartitionAsync(image, format, null, cancellationToken);

    /// <summary>
    /// As above; when the partition is an LVM physical volume, also grows <paramref name="logicalVolume"/> (default:
    /// the logical volume that ends the volume group's used space) and the file system in it.
    /// </summary>
    public async Task GrowLastPartitionAsync(string image, string format, string? logicalVolume, CancellationToken cancellationToken)
    {
        var work = Path.Combine(paths.RunRoot, "disk-resize", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(work);
        ImageExport? export = null;
        string? loop = null;
        try
        {
            export = await ImageExport.StartAsync(runner, logger, image, format, work, discard: false, StepTimeout, cancellationToken);
            var device = export.Device;

            var table = await ReadTable(device, image, cancellationToken);
            var last = table.Partitions.MaxBy(p => p.Start)
                ?? throw new VzInvalidStateException("VzDiskNoPartition", $"The disk '{image}' has no partition to grow.", image);
            if (table.Label == "dos" && last.Number > 4)
                throw new VzDiskUnsupportedException(image, "a logical partition as the last partition", "grow the partition of");
            await Run("sfdisk", ["--no-reread", "--no-tell-kernel", "-N", last.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), device],
                image, cancellationToken, stdin: ", +\n");
            table = await ReadTable(device, image, cancellationToken);
            last = table.Partitions.Single(p => p.Number == last.Number);
            logger.LogInformation("partition {Number} of {Image} now spans {Size} sectors", last.Number, image, last.Size);

            loop = (await Run("losetup", ["--find", "--show", "--offset", (last.Start * table.SectorSize).ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--sizelimit", (last.Size * table.SectorSize).ToString(System.Globalization.CultureInfo.InvariantCulture), device], image, cancellationToken)).StandardOutput.Trim();
            var type = await ProbeType(loop, image, cancellationToken);
            if (type == "LVM2_member")
            {
                // Only this loop device is visible to LVM, so no host volume group is touched.
                await Run("pvresize", ["--devices", loop, loop], image, cancellationToken);
                await new LvmVolumeGrower(runner, logger).GrowAsync(loop, logicalVolume, image, work, GrowFileSystemAsync, cancellationToken);
            }
            else
            {
                if (logicalVolume is not null)
                    throw new VzInvalidArgumentException("VzDiskNoLvm", $"The last partition of '{image}' holds {(type.Length == 0 ? "no known file system" : type)}, not an LVM physical volume.", image, "LogicalVolume");
                await GrowFileSystemAsync(loop, type, work, image, cancellationToken);
            }
            logger.LogInformation("grew the {Type} file system in partition {Number} of {Image}", type, last.Number, image);
        }
        finally
        {
            await TearDown(loop, export, work);
        }
    }

    private async Task<string> ProbeType(string device, string image, CancellationToken ct) =>
        (await runner.RunAsync("blkid", ["-p", "-o", "value", "-s", "TYPE", device],
            new ProcessRunOptions { Timeout = StepTimeout, Target = image, SuccessExitCodes = [0, 2] }, ct)).StandardOutput.Trim();

    /// <summary>Grows the ext2/3/4 or XFS file system on <paramref name="device"/> to the device's size.</summary>
    private async Task GrowFileSystemAsync(string device, string type, string work, string image, CancellationToken cancellationToken)
    {
        if (type.Length == 0) type = await ProbeType(device, image, cancellationToken);
        switch (type)
        {
            case "ext2" or "ext3" or "ext4":
                // ext4 cannot grow online here (no CAP_SYS_RESOURCE): check, then resize offline.
                await runner.RunAsync("e2fsck", ["-f", "-y", device], new ProcessRunOptions { Timeout = StepTimeout, Target = image, SuccessExitCodes = [0, 1] }, cancellationToken);
                await Run("resize2fs", [device], image, cancellationToken);
                break;
            case "xfs":
                // XFS grows only while mounted; nouuid keeps a clone of a host file system mountable.
                var mountPoint = Path.Combine(work, "mnt-" + Path.GetFileName(device));
                Directory.CreateDirectory(mountPoint);
                await Run("mount", ["-t", "xfs", "-o", "nouuid", device, mountPoint], image, cancellationToken);
                try { await Run("xfs_growfs", [mountPoint], image, cancellationToken); }
                catch
                {
                    await Try("umount", [mountPoint]);
                    throw;
                }
                // The unmount writes the grown file system back through the export: with the step's full timeout,
                // not the short one of a cleanup, or a loaded host would lose the growth.
                await Run("umount", [mountPoint], image, CancellationToken.None);
                break;
            default:
                throw new VzDiskUnsupportedException(image, type.Length == 0 ? "an unknown file system in the last partition" : $"the file system '{type}' in the last partition", "grow");
        }
        logger.LogInformation("grew the {Type} file system on {Device} of {Image}", type, device, image);
    }

    private async Task TearDown(string? loop, ImageExport? export, string work)
    {
        if (loop is not null) await Try("losetup", ["-d", loop]);
        if (export is not null) await export.DisposeAsync();
        try { Directory.Delete(work, recursive: true); }
        catch (IOException ex) { logger.LogWarning("could not remove {Work}: {Message}", work, ex.Message); }
    }

    private async Task Try(string tool, string[] args)
    {
        try { await runner.RunAsync(tool, args, new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(30) }, CancellationToken.None); }
        catch (VzException ex) { logger.LogWarning("cleanup {Tool} failed: {Message}", tool, ex.Message); }
    }

    private async Task<PartitionTable> ReadTable(string device, string image, CancellationToken ct)
    {
        var result = await runner.RunAsync("sfdisk", ["-J", device], new ProcessRunOptions { Timeout = StepTimeout, Target = image, ThrowOnFailure = false }, ct);
        if (result.ExitCode != 0)
            throw new VzInvalidStateException("VzDiskNoPartition", $"The disk '{image}' has no partition table sfdisk can read.", image);
        return PartitionTable.Parse(result.StandardOutput, device, image);
    }

    private Task<ProcessResult> Run(string tool, IEnumerable<string> args, string target, CancellationToken ct, string? stdin = null) =>
        runner.RunAsync(tool, args, new ProcessRunOptions { Timeout = StepTimeout, Target = target, StandardInput = stdin }, ct);
}
