using Virtuozzo.Engine.Disks.Safety;
using Virtuozzo.Engine.Tests.Qcow2;
using Xunit;

namespace Virtuozzo.Engine.Tests.Disks;

/// <summary>When a block device counts as busy, read from a fake /sys and /proc tree shaped like the kernel's.</summary>
public sealed class BlockDeviceUseTests
{
    private static readonly FileNode Loop3 = new(FileNodeKind.BlockDevice, 0, 7, 3);

    private static (string Sys, string Proc) Tree(TempDir dir, string mountinfo = "", bool holder = false)
    {
        var dev = Path.Combine(dir.Path, "sys", "dev", "block", "7:3");
        Directory.CreateDirectory(Path.Combine(dev, "holders"));
        File.WriteAllText(Path.Combine(dev, "size"), "32768\n");
        var part = Path.Combine(dev, "loop3p1");
        Directory.CreateDirectory(Path.Combine(part, "holders"));
        File.WriteAllText(Path.Combine(part, "partition"), "1\n");
        File.WriteAllText(Path.Combine(part, "dev"), "259:0\n");
        if (holder) File.WriteAllText(Path.Combine(part, "holders", "dm-0"), "");
        var proc = Path.Combine(dir.Path, "proc");
        Directory.CreateDirectory(Path.Combine(proc, "self"));
        File.WriteAllText(Path.Combine(proc, "self", "mountinfo"), mountinfo);
        File.WriteAllText(Path.Combine(proc, "swaps"), "Filename\tType\tSize\tUsed\tPriority\n");
        return (Path.Combine(dir.Path, "sys"), proc);
    }

    [Fact]
    public void AnUnusedDeviceIsFreeAndSizedFromSysfs()
    {
        using var dir = new TempDir();
        var (sys, proc) = Tree(dir, "22 1 0:21 / /proc rw - proc proc rw\n");
        Assert.Null(BlockDeviceUse.Busy(Loop3, sys, proc));
        Assert.Equal(32768L * 512, BlockDeviceUse.Size(Loop3, sys));
    }

    [Fact]
    public void AMountedDeviceOrPartitionIsBusy()
    {
        using var dir = new TempDir();
        var (sys, proc) = Tree(dir, "40 1 7:3 / /srv/my\\040data rw - ext4 /dev/loop3 rw\n");
        Assert.Equal("a block device mounted on /srv/my data", BlockDeviceUse.Busy(Loop3, sys, proc));
        using var dir2 = new TempDir();
        (sys, proc) = Tree(dir2, "40 1 259:0 / /mnt rw - ext4 /dev/loop3p1 rw\n");
        Assert.Equal("a block device whose partition loop3p1 is mounted on /mnt", BlockDeviceUse.Busy(Loop3, sys, proc));
    }

    [Fact]
    public void APartitionHeldByDeviceMapperIsBusy()
    {
        using var dir = new TempDir();
        var (sys, proc) = Tree(dir, holder: true);
        Assert.Equal("a block device in use by dm-0 (device-mapper, LVM or RAID)", BlockDeviceUse.Busy(Loop3, sys, proc));
    }
}
