using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Progress;

namespace Virtuozzo.Engine.Disks.Compact;

/// <summary>
/// Discards the free blocks of every file system in a closed qcow2 image, the first half of prl_disk_tool's
/// compact. The image is exported with discard=unmap (qemu-storage-daemon's FUSE export; this host has no nbd), each
/// partition and each LVM logical volume is reached through a loop device at its offset (no device-mapper here:
/// LVM only reads its metadata, see <see cref="LvmVolumeGrower"/>), mounted nosuid,nodev,noexec and trimmed with
/// fstrim; the loop device passes the discards to the export, which frees the qcow2 clusters behind them. Every
/// mount, loop device and the export are torn down in reverse order, also on failure.
/// </summary>
public sealed partial class GuestFileSystemTrimmer(VzPaths paths, ProcessRunner runner, ILogger logger)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(10);
    private static readonly Dictionary<string, string?> Quiet = new() { ["LVM_SUPPRESS_FD_WARNINGS"] = "1" };

    /// <summary>What was trimmed, and what was left alone with the reason.</summary>
    public sealed record TrimReport(IReadOnlyList<DiskTrimmedFileSystem> Trimmed, IReadOnlyList<string> Skipped);

    private sealed record Volume(string Location, string Device, long Offset, long Size);

    public async Task<TrimReport> TrimAsync(string image, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var work = Path.Combine(paths.RunRoot, "disk-compact", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(work);
        var loops = new Stack<string>();
        ImageExport? export = null;
        var trimmed = new List<DiskTrimmedFileSystem>();
        var skipped = new List<string>();
        try
        {
            export = await ImageExport.StartAsync(runner, logger, image, "qcow2", work, discard: true, StepTimeout, cancellationToken);
            var size = new FileInfo(export.Device).Length;
            var volumes = new List<Volume>();
            var table = await ReadTable(export.Device, image, cancellationToken);
            if (table is null) volumes.Add(new Volume("disk", export.Device, 0, size));
            else
                foreach (var p in table.Partitions.OrderBy(p => p.Start))
                    volumes.Add(new Volume($"partition {p.Number}", export.Device, p.Start * table.SectorSize, p.Size * table.SectorSize));

            for (var i = 0; i < volumes.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var v = volumes[i];
                progress?.Report(new VzProgress("Compacting " + image, $"Discarding the free blocks of {v.Location}", i * 50 / volumes.Count));
                var loop = await Loop(v.Device, v.Offset, v.Size, image, loops, cancellationToken);
                var type = await ProbeType(loop, image, cancellationToken);
                if (type == "LVM2_member")
                {
                    foreach (var lv in await LogicalVolumes(loop, v.Location, image, skipped, cancellationToken))
                    {
                        var lvLoop = await Loop(loop, lv.Offset, lv.Size, image, loops, cancellationToken);
                        await TrimOne(lv.Location, lvLoop, await ProbeType(lvLoop, image, cancellationToken), work, image, trimmed, skipped, cancellationToken);
                    }
                }
                else await TrimOne(v.Location, loop, type, work, image, trimmed, skipped, cancellationToken);
            }
            return new TrimReport(trimmed, skipped);
        }
        finally
        {
            while (loops.TryPop(out var loop)) await Try("losetup", ["-d", loop]);
            if (export is not null) await export.DisposeAsync();
            try { Directory.Delete(work, recursive: true); }
            catch (IOException ex) { logger.LogWarning("could not remove {Work}: {Message}", work, ex.Message); }
        }
    }

    /// <summary>Mounts one ext2/3/4 or XFS file system, trims it and unmounts it; anything else is skipped with the reason.</summary>
    private async Task TrimOne(string location, string device, string type, string work, string image,
        List<DiskTrimmedFileSystem> trimmed, List<string> skipped, CancellationToken ct)
    {
        if (type is not ("ext2" or "ext3" or "ext4" or "xfs"))
        {
            skipped.Add($"{location}: {(type.Length == 0 ? "no known file system" : type)}");
            logger.LogInformation("{Location} of {Image} holds {Type}: left alone", location, image, type.Length == 0 ? "nothing known" : type);
            return;
        }
        var mountPoint = Path.Combine(work, "mnt-" + Path.GetFileName(device));
        Directory.CreateDirectory(mountPoint);
        // A guest's file system is untrusted: no set-uid, devices or programs from it. nouuid lets a clone of a
        // host XFS mount.
        var options = "nosuid,nodev,noexec" + (type == "xfs" ? ",nouuid" : "");
        await Run("mount", ["-t", type, "-o", options, device, mountPoint], image, ct);
        long bytes;
        try
        {
            var output = (await Run("fstrim", ["-v", mountPoint], image, ct)).StandardOutput;
            bytes = TrimmedBytes(output);
        }
        catch
        {
            await Try("umount", [mountPoint]);
            throw;
        }
        // The unmount writes the file system's state back through the export: the step's full timeout, not a cleanup's.
        await Run("umount", [mountPoint], image, CancellationToken.None);
        trimmed.Add(new DiskTrimmedFileSystem { Location = location, FileSystem = type, TrimmedBytes = bytes });
        logger.LogInformation("trimmed {Bytes} bytes of the {Type} file system in {Location} of {Image}", bytes, type, location, image);
    }

    /// <summary>fstrim -v: "/mnt: 988.4 MiB (1036406784 bytes) trimmed".</summary>
    internal static long TrimmedBytes(string output) =>
        TrimmedPattern().Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"\((\d+) bytes\) trimmed")]
    private static partial Regex TrimmedPattern();

    /// <summary>The LVs of the PV on <paramref name="pv"/> as ranges in it, in disk order; LVs of more than one segment are skipped.</summary>
    private async Task<IReadOnlyList<Volume>> LogicalVolumes(string pv, string partition, string image, List<string> skipped, CancellationToken ct)
    {
        var pvRow = Rows(await Lvm(pv, "pvs", image, ct, "--units", "b", "--nosuffix", "-o", "pe_start,vg_name", pv));
        if (pvRow.Count == 0 || pvRow[0].Length < 2) { skipped.Add($"{partition}: an LVM physical volume in no volume group"); return []; }
        var peStart = long.Parse(pvRow[0][0], CultureInfo.InvariantCulture);
        var vg = pvRow[0][1];
        var extent = long.Parse(Rows(await Lvm(pv, "vgs", image, ct, "--units", "b", "--nosuffix", "-o", "vg_extent_size", vg))[0][0], CultureInfo.InvariantCulture);
        var segments = LvmVolumeGrower.ParseSegments(await Lvm(pv, "lvs", image, ct, "--segments", "-o", "lv_name,seg_pe_ranges", vg));
        var result = new List<Volume>();
        foreach (var group in segments.GroupBy(s => s.Lv))
        {
            var list = group.ToList();
            if (list.Count != 1) { skipped.Add($"{vg}/{group.Key}: a logical volume in {list.Count} pieces"); continue; }
            result.Add(new Volume($"{vg}/{group.Key}", pv, peStart + list[0].First * extent, (list[0].Last - list[0].First + 1) * extent));
        }
        return result.OrderBy(v => v.Offset).ToList(); // in disk order, as the partitions
    }

    /// <summary>One lvm report, metadata only, seeing only the guest's PV, without headings.</summary>
    private async Task<string> Lvm(string pv, string command, string image, CancellationToken ct, params string[] args)
    {
        string[] all = [command, "--config", "global/activation=0", "--devices", pv, "--noheadings", .. args];
        return (await runner.RunAsync("lvm", all, new ProcessRunOptions { Timeout = StepTimeout, Target = image, Environment = Quiet }, ct)).StandardOutput;
    }

    private static List<string[]> Rows(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();

    private async Task<string> Loop(string device, long offset, long size, string image, Stack<string> loops, CancellationToken ct)
    {
        var loop = (await Run("losetup", ["--find", "--show", "--offset", offset.ToString(CultureInfo.InvariantCulture),
            "--sizelimit", size.ToString(CultureInfo.InvariantCulture), device], image, ct)).StandardOutput.Trim();
        loops.Push(loop);
        return loop;
    }

    private async Task<string> ProbeType(string device, string image, CancellationToken ct) =>
        (await runner.RunAsync("blkid", ["-p", "-o", "value", "-s", "TYPE", device],
            new ProcessRunOptions { Timeout = StepTimeout, Target = image, SuccessExitCodes = [0, 2] }, ct)).StandardOutput.Trim();

    /// <summary>The partition table, or null for a disk without one (a file system on the whole disk).</summary>
    private async Task<PartitionTable?> ReadTable(string device, string image, CancellationToken ct)
    {
        var result = await runner.RunAsync("sfdisk", ["-J", device], new ProcessRunOptions { Timeout = StepTimeout, Target = image, ThrowOnFailure = false }, ct);
        return result.ExitCode == 0 ? PartitionTable.Parse(result.StandardOutput, device, image) : null;
    }

    private async Task Try(string tool, string[] args)
    {
        try { await runner.RunAsync(tool, args, new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(30) }, CancellationToken.None); }
        catch (VzException ex) { logger.LogWarning("cleanup {Tool} failed: {Message}", tool, ex.Message); }
    }

    private Task<ProcessResult> Run(string tool, IEnumerable<string> args, string target, CancellationToken ct) =>
        runner.RunAsync(tool, args, new ProcessRunOptions { Timeout = StepTimeout, Target = target }, ct);
}
