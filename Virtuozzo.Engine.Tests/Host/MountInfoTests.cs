using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Tests.Host;

/// <summary>The one mountinfo reader: fields by position around the " - " separator, paths unescaped.</summary>
public sealed class MountInfoTests
{
    [Fact]
    public void Reads_mount_point_type_source_and_options_and_unescapes_paths()
    {
        string[] lines =
        [
            @"36 35 98:0 /mnt1 /vz/private/my\040ct/root rw,noatime master:1 - ext4 /dev/loop3 rw,errors=continue",
            "37 25 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:13 - cgroup cgroup rw,memory",
            "garbage without a separator",
            "1 2 - short",
        ];
        var mounts = MountInfo.Parse(lines).ToList();
        Assert.Equal(
        [
            new MountEntry("/vz/private/my ct/root", "ext4", "/dev/loop3", "rw,errors=continue"),
            new MountEntry("/sys/fs/cgroup/memory", "cgroup", "cgroup", "rw,memory"),
        ], mounts);
    }

    [Fact]
    public void Finds_real_mount_points_of_this_host()
    {
        // /proc is mounted in every Linux mount namespace a test can run in; a plain folder is not a mount point.
        Assert.True(MountInfo.IsMountPoint("/proc"));
        using var dir = new TempDirectory();
        Assert.False(MountInfo.IsMountPoint(dir.Path));
        Assert.Contains("/proc", MountInfo.MountPointsUnder("/"));
        Assert.Empty(MountInfo.MountPointsUnder(dir.Path));
    }
}
