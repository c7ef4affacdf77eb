using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qcow2;

namespace Virtuozzo.Engine.Qemu.GuestDisks;

/// <summary>Runs one program in the guest (guest-exec) and returns what it left.</summary>
public delegate Task<GuestExecResult> GuestRunner(string path, IReadOnlyList<string> arguments, string? stdin, CancellationToken cancellationToken);

/// <summary>
/// What an online grow will do inside the guest: the disk (found by its virtio serial, the disk's id), its last
/// partition, and for an LVM physical volume the volume group and logical volume; then the file system and where it
/// is mounted (null: not mounted).
/// </summary>
public sealed record GuestGrowPlan(string Disk, int Partition, string PartitionDevice, string? VolumeGroup, string? LogicalVolume,
    string FileSystemDevice, string FileSystem, string? MountPoint);

/// <summary>
/// Grows, inside a running guest, the last partition of a disk QEMU just made larger (block_resize), the LVM
/// physical volume in it and a logical volume (the one that ends the VG's used space, or a named one), and the ext4
/// or XFS file system in it, online when mounted: the guest-side half of <c>Resize-VzDisk -ResizeGuestFileSystem</c>
/// on a running VM (growpart, pvresize, lvextend, resize2fs/xfs_growfs). Every step is one guest-exec of the guest's
/// own tools (sfdisk, partx, lvm, resize2fs, e2fsck, xfs_growfs); the plan is read and checked before the disk grows.
/// </summary>
public sealed partial class GuestDiskGrower(GuestRunner run, string vmName, ILogger logger)
{
    /// <summary>Reads the guest's view of the disk with serial <paramref name="serial"/> and checks it can be grown.</summary>
    public async Task<GuestGrowPlan> PlanAsync(string serial, string? logicalVolume, CancellationToken ct)
    {
        var list = await Sh("for b in /sys/block/*; do [ -f \"$b/serial\" ] && echo \"${b##*/} $(cat \"$b/serial\")\"; done; true", [], ct);
        var name = list.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ', 2)).FirstOrDefault(f => f.Length == 2 && f[1] == serial)?[0]
            ?? throw new VzNotFoundException("VzGuestDiskNotFound", $"The guest of '{vmName}' shows no disk with serial '{serial}'.", vmName)
            { RecommendedAction = "Restart the VM once (disks carry their id as serial since this version), or grow the partition and file system inside the guest." };
        var disk = "/dev/" + name;
        var table = PartitionTable.Parse(await Tool("sfdisk", ["-J", disk], ct), disk, disk);
        var last = table.Partitions.MaxBy(p => p.Start)
            ?? throw new VzInvalidStateException("VzDiskNoPartition", $"The disk {disk} in '{vmName}' has no partition to grow.", vmName);
        if (table.Label == "dos" && last.Number > 4)
            throw new VzDiskUnsupportedException(disk, "a logical partition as the last partition", "grow the partition of");
        var part = disk + (char.IsDigit(disk[^1]) ? "p" : "") + last.Number.ToString(CultureInfo.InvariantCulture);
        var partType = await TypeOf(part, ct);
        string? vg = null, lv = null;
        var fsDevice = part;
        if (partType == "LVM2_member")
        {
            vg = (await Tool("lvm", ["pvs", "--noheadings", "-o", "vg_name", part], ct)).Trim();
            if (vg.Length == 0)
                throw new VzInvalidStateException("VzDiskNoLvm", $"The physical volume {part} in '{vmName}' belongs to no volume group.", vmName);
            var segments = LvmVolumeGrower.ParseSegments(await Tool("lvm", ["lvs", "--noheadings", "--segments", "-o", "lv_name,seg_pe_ranges", vg], ct));
            lv = LvmVolumeGrower.ChooseVolume(segments, logicalVolume, vg, vmName);
            fsDevice = (await Tool("lvm", ["lvs", "--noheadings", "-o", "lv_dm_path", $"{vg}/{lv}"], ct)).Trim();
            if (fsDevice.Length == 0 || (await Sh("[ -b \"$1\" ] && echo yes; true", [fsDevice], ct)).Trim() != "yes")
                throw new VzInvalidStateException("VzGuestVolumeInactive", $"The logical volume {vg}/{lv} is not active in '{vmName}'.", vmName)
                { RecommendedAction = $"Activate it in the guest (vgchange -ay {vg}), then try again." };
        }
        else if (logicalVolume is not null)
            throw new VzInvalidArgumentException("VzDiskNoLvm", $"The last partition of {disk} in '{vmName}' holds {(partType.Length == 0 ? "no known file system" : partType)}, not an LVM physical volume.", vmName, "LogicalVolume");
        var fs = lv is null ? partType : await TypeOf(fsDevice, ct);
        if (fs is not ("ext2" or "ext3" or "ext4" or "xfs"))
            throw new VzDiskUnsupportedException(disk, fs.Length == 0 ? "an unknown file system" : $"the file system '{fs}'", $"grow in '{vmName}'");
        var mountPoint = (await Sh(
            // By device number, as mountinfo lists it: the mount may name the device another way (/dev/vg/lv, /dev/dm-0).
            "n=$(printf '%d:%d' 0x$(stat -L -c %t \"$1\") 0x$(stat -L -c %T \"$1\")); while read -r id p mm root mp rest; do [ \"$mm\" = \"$n\" ] && { echo \"$mp\"; break; }; done < /proc/self/mountinfo; true",
            [fsDevice], ct)).Trim();
        var plan = new GuestGrowPlan(disk, last.Number, part, vg, lv, fsDevice, fs, mountPoint.Length == 0 ? null : mountPoint);
        logger.LogInformation("online grow in '{Vm}': {Plan}", vmName, plan);
        return plan;
    }

    /// <summary>Waits until the guest sees the disk at <paramref name="size"/> bytes (virtio's capacity change).</summary>
    public async Task WaitForSizeAsync(GuestGrowPlan plan, long size, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var sectors = (await Sh("cat \"/sys/class/block/${1##*/}/size\"", [plan.Disk], ct)).Trim();
            if (long.TryParse(sectors, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n * 512 >= size) return;
            if (DateTime.UtcNow > deadline)
                throw new VzTimeoutException("VzGuestDiskResizeTimeout", $"The guest of '{vmName}' still sees {plan.Disk} at {n * 512} bytes, not {size}.", vmName, timeout);
            await Task.Delay(250, ct);
        }
    }

    /// <summary>Grows the partition, the PV and LV, and the file system, as planned.</summary>
    public async Task GrowAsync(GuestGrowPlan plan, CancellationToken ct)
    {
        var number = plan.Partition.ToString(CultureInfo.InvariantCulture);
        // growpart's way: rewrite the partition's end, then tell the kernel only that partition's new size (the
        // disk is in use, so a full re-read would fail).
        await Tool("sfdisk", ["--no-reread", "--no-tell-kernel", "-N", number, plan.Disk], ct, stdin: ", +\n");
        await Tool("partx", ["--update", "--nr", number, plan.Disk], ct);
        if (plan.VolumeGroup is { } vg)
        {
            await Tool("lvm", ["pvresize", plan.PartitionDevice], ct);
            var free = long.Parse((await Tool("lvm", ["vgs", "--noheadings", "-o", "vg_free_count", vg], ct)).Trim(), CultureInfo.InvariantCulture);
            if (free > 0) await Tool("lvm", ["lvextend", "-l", "+100%FREE", $"{vg}/{plan.LogicalVolume}"], ct);
        }
        switch (plan.FileSystem, plan.MountPoint)
        {
            case ("xfs", { } mp):
                await Tool("xfs_growfs", [mp], ct);
                break;
            case ("xfs", null):
                await Sh("m=/run/vz-grow.$$; mkdir -p $m && mount -t xfs \"$1\" $m && { xfs_growfs $m; r=$?; umount $m; rmdir $m; exit $r; }", [plan.FileSystemDevice], ct);
                break;
            case (_, { }):
                await Tool("resize2fs", [plan.FileSystemDevice], ct); // ext4 grows online while mounted
                break;
            default:
                var check = await run("e2fsck", ["-f", "-y", plan.FileSystemDevice], null, ct);
                if (check.ExitCode is not (0 or 1)) throw Failed("e2fsck", check);
                await Tool("resize2fs", [plan.FileSystemDevice], ct);
                break;
        }
        logger.LogInformation("grew {Fs} on {Device} in '{Vm}'", plan.FileSystem, plan.FileSystemDevice, vmName);
    }

    private async Task<string> TypeOf(string device, CancellationToken ct)
    {
        // blkid prints `DEV: UUID="..." TYPE="ext4"` in busybox and util-linux alike; nothing (exit 2) when it finds nothing.
        var r = await run("blkid", [device], null, ct);
        return TypePattern().Match(r.StdOut) is { Success: true } m ? m.Groups[1].Value : "";
    }

    [GeneratedRegex(@"\bTYPE=""([^""]+)""")]
    private static partial Regex TypePattern();

    private Task<string> Sh(string script, IReadOnlyList<string> args, CancellationToken ct) => Tool("sh", ["-c", script, "sh", .. args], ct);

    private async Task<string> Tool(string tool, IReadOnlyList<string> args, CancellationToken ct, string? stdin = null)
    {
        var r = await run(tool, args, stdin, ct);
        if (r.ExitCode != 0) throw Failed(tool, r);
        return r.StdOut;
    }

    private VzExternalToolException Failed(string tool, GuestExecResult r) =>
        new($"{tool} in the guest of '{vmName}'", [], r.ExitCode, r.StdErr.Length > 2000 ? r.StdErr[..2000] : r.StdErr, vmName);
}
