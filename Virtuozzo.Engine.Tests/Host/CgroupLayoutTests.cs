using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Tests.Host;

public sealed class CgroupLayoutTests
{
    private const string HybridMountInfo = """
        30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755
        31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:5 - cgroup2 cgroup2 rw
        33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:7 - cgroup cgroup rw,cpu,cpuacct
        34 30 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:8 - cgroup cgroup rw,memory
        35 30 0:31 / /sys/fs/cgroup/systemd rw,nosuid shared:9 - cgroup cgroup rw,xattr,name=systemd
        """;

    [Fact]
    public void Hybrid_host_lists_v1_controllers_and_the_v2_ones()
    {
        var (mode, controllers, unified) = CgroupLayout.Parse(HybridMountInfo.Split('\n'),
            p => p == "/sys/fs/cgroup/unified/cgroup.controllers" ? "hugetlb\n" : null);
        Assert.Equal(CgroupMode.Hybrid, mode);
        Assert.Equal("/sys/fs/cgroup/unified", unified);
        Assert.Contains(new CgroupControllerInfo("cpu", 1, "/sys/fs/cgroup/cpu,cpuacct"), controllers);
        Assert.Contains(new CgroupControllerInfo("cpuacct", 1, "/sys/fs/cgroup/cpu,cpuacct"), controllers);
        Assert.Contains(new CgroupControllerInfo("memory", 1, "/sys/fs/cgroup/memory"), controllers);
        Assert.Contains(new CgroupControllerInfo("hugetlb", 2, "/sys/fs/cgroup/unified"), controllers);
        Assert.DoesNotContain(controllers, c => c.Name.Contains("systemd") || c.Name == "xattr");
    }

    [Fact]
    public void Unified_only_host_is_v2()
    {
        var (mode, controllers, _) = CgroupLayout.Parse(
            ["25 1 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate"],
            _ => "cpuset cpu io memory pids");
        Assert.Equal(CgroupMode.V2, mode);
        Assert.Equal(5, controllers.Count);
        Assert.All(controllers, c => Assert.Equal(2, c.Version));
    }

    [Fact]
    public void This_host_reads_without_error()
    {
        var (mode, controllers, _) = CgroupLayout.Read();
        Assert.NotEqual(CgroupMode.None, mode);
        Assert.NotEmpty(controllers);
    }
}
