using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Virtuozzo.Engine.Disks.Compact;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Qemu.Agent;
using Virtuozzo.Engine.Qemu.GuestDisks;
using Xunit;

namespace Virtuozzo.Engine.Tests.Disks;

/// <summary>
/// The guest side of an online grow, against a scripted guest (what each guest tool prints), and the parsers of the
/// compact: guest-fstrim's reply and fstrim -v's line.
/// </summary>
public sealed class GuestDiskGrowerTests
{
    private const string Table = """
        {"partitiontable": {"label": "gpt", "sectorsize": 512, "partitions": [
          {"node": "/dev/vda1", "start": 2048, "size": 1433600, "type": "0FC63DAF-8483-4772-8E79-3D69D8477DE4"},
          {"node": "/dev/vda2", "start": 1435648, "size": 1183744, "type": "0FC63DAF-8483-4772-8E79-3D69D8477DE4"}]}}
        """;

    /// <summary>A guest that answers each tool from a table; records what ran.</summary>
    private sealed class ScriptedGuest
    {
        public List<string> Ran { get; } = [];
        public Dictionary<string, (int Exit, string Out)> Answers { get; } = new();

        public Task<GuestExecResult> Run(string path, IReadOnlyList<string> args, string? stdin, CancellationToken ct)
        {
            var line = path + " " + string.Join(' ', path == "sh" ? args.Skip(3) : args);
            Ran.Add(line);
            var key = Answers.Keys.FirstOrDefault(k => line.StartsWith(k, StringComparison.Ordinal) || (path == "sh" && args[1].Contains(k, StringComparison.Ordinal)));
            var (exit, output) = key is null ? (0, "") : Answers[key];
            return Task.FromResult(new GuestExecResult { ExitCode = exit, StdOut = output, StdErr = exit == 0 ? "" : "failed" });
        }
    }

    private static ScriptedGuest LvmGuest()
    {
        var g = new ScriptedGuest();
        g.Answers["/sys/block/*"] = (0, "vda disk0\nvdb disk1\n");
        g.Answers["sfdisk -J /dev/vda"] = (0, Table);
        g.Answers["blkid /dev/vda2"] = (0, "/dev/vda2: UUID=\"x\" TYPE=\"LVM2_member\"\n");
        g.Answers["lvm pvs"] = (0, "  vg0\n");
        g.Answers["lvm lvs --noheadings --segments"] = (0, "  root /dev/vda2:0-23\n  data /dev/vda2:24-103\n");
        g.Answers["lvm lvs --noheadings -o lv_dm_path"] = (0, "  /dev/mapper/vg0-data\n");
        g.Answers["[ -b"] = (0, "yes\n");
        g.Answers["blkid /dev/mapper/vg0-data"] = (0, "/dev/mapper/vg0-data: UUID=\"y\" TYPE=\"xfs\"\n");
        g.Answers["mountinfo"] = (0, "/mnt/data\n");
        g.Answers["lvm vgs"] = (0, "  512\n");
        return g;
    }

    [Fact]
    public async Task PlansTheLvThatEndsTheVgAndGrowsItsMountedXfsOnline()
    {
        var g = LvmGuest();
        var grower = new GuestDiskGrower(g.Run, "vm1", NullLogger.Instance);
        var plan = await grower.PlanAsync("disk0", null, CancellationToken.None);
        Assert.Equal(new GuestGrowPlan("/dev/vda", 2, "/dev/vda2", "vg0", "data", "/dev/mapper/vg0-data", "xfs", "/mnt/data"), plan);
        g.Ran.Clear();
        await grower.GrowAsync(plan, CancellationToken.None);
        Assert.Equal([
            "sfdisk --no-reread --no-tell-kernel -N 2 /dev/vda", "partx --update --nr 2 /dev/vda", "lvm pvresize /dev/vda2",
            "lvm vgs --noheadings -o vg_free_count vg0", "lvm lvextend -l +100%FREE vg0/data", "xfs_growfs /mnt/data"], g.Ran);
    }

    [Fact]
    public async Task ANamedLvTheVgLacksIsRefusedBeforeAnythingRuns()
    {
        var g = LvmGuest();
        var grower = new GuestDiskGrower(g.Run, "vm1", NullLogger.Instance);
        var e = await Assert.ThrowsAsync<VzNotFoundException>(() => grower.PlanAsync("disk0", "nosuch", CancellationToken.None));
        Assert.Equal("VzLogicalVolumeNotFound", e.ErrorId);
        Assert.DoesNotContain(g.Ran, r => r.StartsWith("sfdisk --no-reread", StringComparison.Ordinal) || r.StartsWith("lvm lvextend", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADiskWithoutItsSerialInTheGuestIsATypedNotFound()
    {
        var g = LvmGuest();
        var e = await Assert.ThrowsAsync<VzNotFoundException>(() => new GuestDiskGrower(g.Run, "vm1", NullLogger.Instance).PlanAsync("disk7", null, CancellationToken.None));
        Assert.Equal("VzGuestDiskNotFound", e.ErrorId);
        Assert.Contains("Restart the VM", e.RecommendedAction);
    }

    [Fact]
    public async Task AnUnmountedExt4PartitionIsCheckedThenResized()
    {
        var g = new ScriptedGuest();
        g.Answers["/sys/block/*"] = (0, "vdb disk1\n");
        g.Answers["sfdisk -J /dev/vdb"] = (0, Table.Replace("/dev/vda", "/dev/vdb"));
        g.Answers["blkid /dev/vdb2"] = (0, "/dev/vdb2: TYPE=\"ext4\"\n");
        var grower = new GuestDiskGrower(g.Run, "vm1", NullLogger.Instance);
        var plan = await grower.PlanAsync("disk1", null, CancellationToken.None);
        Assert.Null(plan.MountPoint);
        Assert.Null(plan.VolumeGroup);
        g.Ran.Clear();
        await grower.GrowAsync(plan, CancellationToken.None);
        Assert.Equal(["sfdisk --no-reread --no-tell-kernel -N 2 /dev/vdb", "partx --update --nr 2 /dev/vdb", "e2fsck -f -y /dev/vdb2", "resize2fs /dev/vdb2"], g.Ran);
    }

    [Fact]
    public void GuestFstrimReplyKeepsTrimmedPathsAndErrors()
    {
        var reply = JsonNode.Parse("""{"paths": [{"path": "/mnt/p1", "trimmed": 524288000, "minimum": 0}, {"path": "/", "error": "Inappropriate ioctl for device"}, {"nopath": 1}]}""");
        var r = QemuAgent.ParseTrim(reply);
        Assert.Equal([new GuestTrimResult("/mnt/p1", 524288000, null), new GuestTrimResult("/", 0, "Inappropriate ioctl for device")], r);
        Assert.Empty(QemuAgent.ParseTrim(JsonNode.Parse("{}")));
    }

    [Fact]
    public void FstrimVerboseLineGivesTheBytes()
    {
        Assert.Equal(1036406784, GuestFileSystemTrimmer.TrimmedBytes("/run/x/mnt-loop3: 988.4 MiB (1036406784 bytes) trimmed\n"));
        Assert.Equal(0, GuestFileSystemTrimmer.TrimmedBytes(""));
    }

    [Fact]
    public void ScaledProgressMapsAStepOntoItsSlice()
    {
        var seen = new List<VzProgress>();
        var p = new ScaledProgress(new Collector(seen), 50, 100);
        p.Report(new VzProgress("a", "s", 0));
        p.Report(new VzProgress("a", "s", 50));
        p.Report(new VzProgress("a", "s", null));
        Assert.Equal([50, 75, null], seen.Select(s => s.Percent));
    }

    private sealed class Collector(List<VzProgress> seen) : IProgress<VzProgress>
    {
        public void Report(VzProgress value) => seen.Add(value);
    }
}
