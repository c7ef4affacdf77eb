using System.Globalization;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qcow2;

namespace Virtuozzo.Engine.Disks;

/// <summary>
/// Makes room for a smaller closed qcow2 image: shrinks the ext2/3/4 file system in the last partition, or in the
/// logical volume that ends its LVM volume group, then that LV and the PV, then the partition, and discards what
/// lies past the new end so the image can be cut there. Only what can shrink is shrunk: XFS cannot, a mounted file
/// system cannot (the image must be closed), and an LV followed by another cannot give the disk's tail back; each is
/// refused with a typed error before anything changes. After the image is cut, <see cref="RewriteGptAsync"/>
/// writes a GPT again for the new size (its backup header lived in the cut-off tail).
/// </summary>
public sealed class GuestFileSystemShrinker(VzPaths paths, ProcessRunner runner, ILogger logger)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(10);
    private static readonly Dictionary<string, string?> Quiet = new() { ["LVM_SUPPRESS_FD_WARNINGS"] = "1" };

    /// <summary>
    /// Shrinks the contents of <paramref name="image"/> (still at its old size) to fit in <paramref name="newSize"/>
    /// bytes. Returns the GPT as an sfdisk script for <see cref="RewriteGptAsync"/>, or null for an MBR disk.
    /// </summary>
    public async Task<string?> ShrinkLastPartitionAsync(string image, long newSize, string? logicalVolume, CancellationToken ct)
    {
        string? gpt = null;
        await WithExport(image, discard: true, async device =>
        {
            var table = await ReadTable(device, image, ct);
            var last = table.Partitions.MaxBy(p => p.Start)
                ?? throw new VzInvalidStateException("VzDiskNoPartition", $"The disk '{image}' has no partition to shrink.", image);
            if (table.Label == "dos" && last.Number > 4)
                throw new VzDiskUnsupportedException(image, "a logical partition as the last partition", "shrink the partition of");
            // GPT keeps a backup table in the disk's last 33 sectors; the partition must end before it.
            var sectors = newSize / table.SectorSize;
            var lastUsable = sectors - (table.Label == "gpt" ? 34 : 1);
            var partSectors = (lastUsable - last.Start + 1) / 2048 * 2048; // whole MiB, as partitioning tools align
            if (partSectors <= 0)
                throw new VzInvalidArgumentException("VzDiskShrinkBelowPartition", $"{newSize} bytes ends before partition {last.Number} of '{image}' starts.", image, "Size");
            if (partSectors >= last.Size) { logger.LogInformation("partition {N} of {Image} already fits", last.Number, image); return; }
            var partBytes = partSectors * table.SectorSize;

            var loop = await Loop(device, last.Start * table.SectorSize, last.Size * table.SectorSize, image, ct);
            try
            {
                var type = await ProbeType(loop, image, ct);
                if (type == "LVM2_member") await ShrinkLvm(loop, partBytes, logicalVolume, image, ct);
                else
                {
                    if (logicalVolume is not null)
                        throw new VzInvalidArgumentException("VzDiskNoLvm", $"The last partition of '{image}' holds {(type.Length == 0 ? "no known file system" : type)}, not an LVM physical volume.", image, "LogicalVolume");
                    await ShrinkFileSystem(loop, type, partBytes, $"partition {last.Number}", image, ct);
                }
            }
            finally { await Try("losetup", ["-d", loop]); }

            await Run("sfdisk", ["--no-reread", "--no-tell-kernel", "-N", last.Number.ToString(CultureInfo.InvariantCulture), device],
                image, ct, stdin: $", {partSectors.ToString(CultureInfo.InvariantCulture)}\n");
            // Free everything past the new end (the old tail, the old backup GPT), so the qcow2 can be cut there.
            var cut = (last.Start + partSectors) * table.SectorSize;
            var length = new FileInfo(device).Length;
            if (length > cut)
                await Run("fallocate", ["--punch-hole", "--keep-size", "--offset", cut.ToString(CultureInfo.InvariantCulture),
                    "--length", (length - cut).ToString(CultureInfo.InvariantCulture), device], image, ct);
            logger.LogInformation("partition {N} of {Image} shrunk to {Sectors} sectors", last.Number, image, partSectors);
            if (table.Label == "gpt") gpt = (await Run("sfdisk", ["--dump", device], image, ct)).StandardOutput;
        }, ct);
        return gpt;
    }

    /// <summary>
    /// After the image was cut: writes the GPT again, the same label id, partitions, types, UUIDs and names, for the
    /// new size, so both headers are valid (a cut GPT's primary header still points at the lost backup, and sfdisk
    /// then no longer reads it as GPT). Nothing is wiped: only the table is written.
    /// </summary>
    public Task RewriteGptAsync(string image, string dump, CancellationToken ct) =>
        WithExport(image, discard: false, async device =>
        {
            var script = string.Join('\n', dump.Split('\n').Where(l => !l.StartsWith("last-lba:", StringComparison.Ordinal) && !l.StartsWith("device:", StringComparison.Ordinal)));
            await Run("sfdisk", ["--no-reread", "--no-tell-kernel", "--wipe", "never", "--wipe-partitions", "never", device], image, ct, stdin: script);
        }, ct);

    private async Task ShrinkLvm(string pv, long pvBytes, string? logicalVolume, string image, CancellationToken ct)
    {
        var pvRow = Rows(await Lvm(pv, "pvs", image, ct, "--noheadings", "--units", "b", "--nosuffix", "-o", "pe_start,vg_name", pv));
        if (pvRow.Count == 0 || pvRow[0].Length < 2)
            throw new VzInvalidStateException("VzDiskNoLvm", $"The LVM physical volume in '{image}' belongs to no volume group.", image);
        var peStart = long.Parse(pvRow[0][0], CultureInfo.InvariantCulture);
        var vg = pvRow[0][1];
        var extent = long.Parse(Rows(await Lvm(pv, "vgs", image, ct, "--noheadings", "--units", "b", "--nosuffix", "-o", "vg_extent_size", vg))[0][0], CultureInfo.InvariantCulture);
        var segments = LvmVolumeGrower.ParseSegments(await Lvm(pv, "lvs", image, ct, "--noheadings", "--segments", "-o", "lv_name,seg_pe_ranges", vg));
        var lastLv = LvmVolumeGrower.ChooseVolume(segments, null, vg, image);
        var lv = LvmVolumeGrower.ChooseVolume(segments, logicalVolume, vg, image);
        if (lv != lastLv)
            throw new VzDiskUnsupportedException(image, $"the logical volume {vg}/{lv}, followed on the disk by {vg}/{lastLv} (only the LV that ends the volume group's used space can give the disk's tail back)", "shrink");
        var mine = segments.Where(s => s.Lv == lv).ToList();
        if (mine.Count != 1)
            throw new VzDiskUnsupportedException(image, $"the logical volume {vg}/{lv} in {mine.Count} pieces (only a linear, contiguous LV can be shrunk offline here)", "shrink");
        var usable = (pvBytes - peStart) / extent; // extents the smaller PV holds
        var lvExtents = usable - mine[0].First;
        if (lvExtents <= 0)
            throw new VzInvalidArgumentException("VzDiskShrinkBelowData", $"At that size the logical volume {vg}/{lv} of '{image}' would have no room left.", image, "Size");
        var currentExtents = mine[0].Last - mine[0].First + 1;
        if (lvExtents < currentExtents)
        {
            var lvLoop = await Loop(pv, peStart + mine[0].First * extent, currentExtents * extent, image, ct);
            try { await ShrinkFileSystem(lvLoop, await ProbeType(lvLoop, image, ct), lvExtents * extent, $"{vg}/{lv}", image, ct); }
            finally { await Try("losetup", ["-d", lvLoop]); }
            await Lvm(pv, "lvreduce", image, ct, "-f", "-l", lvExtents.ToString(CultureInfo.InvariantCulture), $"{vg}/{lv}");
        }
        await Lvm(pv, "pvresize", image, ct, "-y", "--setphysicalvolumesize", pvBytes.ToString(CultureInfo.InvariantCulture) + "b", pv);
        logger.LogInformation("shrank {Vg}/{Lv} of {Image} to {Extents} extents and its PV to {Bytes} bytes", vg, lv, image, lvExtents, pvBytes);
    }

    /// <summary>ext2/3/4 shrinks offline (checked first); XFS and the rest cannot shrink.</summary>
    private async Task ShrinkFileSystem(string device, string type, long bytes, string location, string image, CancellationToken ct)
    {
        if (type is not ("ext2" or "ext3" or "ext4"))
            throw new VzDiskUnsupportedException(image, type.Length == 0 ? $"an unknown file system in {location}" : $"the file system '{type}' in {location}, which cannot shrink (only ext2/3/4 can)", "shrink");
        await runner.RunAsync("e2fsck", ["-f", "-y", device], new ProcessRunOptions { Timeout = StepTimeout, Target = image, SuccessExitCodes = [0, 1] }, ct);
        var kib = (bytes / 4096 * 4).ToString(CultureInfo.InvariantCulture) + "K";
        var r = await runner.RunAsync("resize2fs", [device, kib], new ProcessRunOptions { Timeout = StepTimeout, Target = image, ThrowOnFailure = false }, ct);
        if (r.ExitCode != 0)
            throw new VzInvalidArgumentException("VzDiskShrinkBelowData", $"The ext4 file system in {location} of '{image}' holds more than fits in {bytes} bytes: {r.StandardError.Trim()}", image, "Size")
            { RecommendedAction = "Free space in the guest, or choose a larger size." };
        logger.LogInformation("shrank the {Type} file system in {Location} of {Image} to {Bytes} bytes", type, location, image, bytes);
    }

    private async Task WithExport(string image, bool discard, Func<string, Task> body, CancellationToken ct)
    {
        var work = Path.Combine(paths.RunRoot, "disk-shrink", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(work);
        ImageExport? export = null;
        try
        {
            export = await ImageExport.StartAsync(runner, logger, image, "qcow2", work, discard, StepTimeout, ct);
            await body(export.Device);
        }
        finally
        {
            if (export is not null) await export.DisposeAsync();
            try { Directory.Delete(work, recursive: true); }
            catch (IOException ex) { logger.LogWarning("could not remove {Work}: {Message}", work, ex.Message); }
        }
    }

    private async Task<string> Lvm(string pv, string command, string image, CancellationToken ct, params string[] args)
    {
        string[] all = [command, "--config", "global/activation=0", "--devices", pv, .. args];
        return (await runner.RunAsync("lvm", all, new ProcessRunOptions { Timeout = StepTimeout, Target = image, Environment = Quiet }, ct)).StandardOutput;
    }

    private static List<string[]> Rows(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();

    private async Task<string> Loop(string device, long offset, long size, string image, CancellationToken ct) =>
        (await Run("losetup", ["--find", "--show", "--offset", offset.ToString(CultureInfo.InvariantCulture),
            "--sizelimit", size.ToString(CultureInfo.InvariantCulture), device], image, ct)).StandardOutput.Trim();

    private async Task<string> ProbeType(string device, string image, CancellationToken ct) =>
        (await runner.RunAsync("blkid", ["-p", "-o", "value", "-s", "TYPE", device],
            new ProcessRunOptions { Timeout = StepTimeout, Target = image, SuccessExitCodes = [0, 2] }, ct)).StandardOutput.Trim();

    private async Task<PartitionTable> ReadTable(string device, string image, CancellationToken ct)
    {
        var result = await runner.RunAsync("sfdisk", ["-J", device], new ProcessRunOptions { Timeout = StepTimeout, Target = image, ThrowOnFailure = false }, ct);
        if (result.ExitCode != 0)
            throw new VzInvalidStateException("VzDiskNoPartition", $"The disk '{image}' has no partition table sfdisk can read.", image);
        return PartitionTable.Parse(result.StandardOutput, device, image);
    }

    private async Task Try(string tool, string[] args)
    {
        try { await runner.RunAsync(tool, args, new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(30) }, CancellationToken.None); }
        catch (VzException ex) { logger.LogWarning("cleanup {Tool} failed: {Message}", tool, ex.Message); }
    }

    private Task<ProcessResult> Run(string tool, IEnumerable<string> args, string target, CancellationToken ct, string? stdin = null) =>
        runner.RunAsync(tool, args, new ProcessRunOptions { Timeout = StepTimeout, Target = target, StandardInput = stdin }, ct);
}
