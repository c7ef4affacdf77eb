using Xunit;
using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Cgroups.V2;
using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Tests.Cgroups;

/// <summary>
/// The v2 backend against a file tree laid out like a cgroup2 mount (this host has no v2 memory or cpu controller).
/// The fixture plays the kernel's part: groups exist with their interface files before the backend writes them,
/// and a missing file stays missing (the backend never creates interface files).
/// </summary>
public sealed class CgroupV2BackendTests : IDisposable
{
    private static readonly string[] InterfaceFiles =
    [
        "cgroup.controllers", "cgroup.subtree_control", "cgroup.procs", "cgroup.freeze", "cgroup.events",
        "memory.max", "memory.swap.max", "memory.low", "memory.current", "memory.peak", "memory.events",
        "cpu.weight", "cpu.max", "cpu.stat", "cpuset.cpus", "pids.max", "pids.current",
    ];

    private readonly string root = Directory.CreateTempSubdirectory("vz-cg2-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string MakeGroup(string rel)
    {
        var dir = rel.Length == 0 ? root : Path.Combine(root, rel);
        Directory.CreateDirectory(dir);
        foreach (var f in InterfaceFiles) if (!File.Exists(Path.Combine(dir, f))) File.WriteAllText(Path.Combine(dir, f), "");
        File.WriteAllText(Path.Combine(dir, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc");
        File.WriteAllText(Path.Combine(dir, "cpu.max"), "max 100000");
        File.WriteAllText(Path.Combine(dir, "cgroup.events"), "populated 0\nfrozen 0\n");
        return dir;
    }

    private string Read(string rel, string file) => File.ReadAllText(Path.Combine(root, rel, file));

    [Fact]
    public void CreateEnablesControllersDownThePath()
    {
        MakeGroup("");
        MakeGroup("vz");
        MakeGroup("vz/ct1");
        new CgroupV2Backend(root).Create("vz/ct1");
        Assert.Equal("+cpuset +cpu +memory +pids", File.ReadAllText(Path.Combine(root, "cgroup.subtree_control")));
        Assert.Equal("+cpuset +cpu +memory +pids", Read("vz", "cgroup.subtree_control"));
        Assert.Equal("", Read("vz/ct1", "cgroup.subtree_control")); // the leaf holds processes, not controllers
    }

    [Fact]
    public void ApplyWritesV2Files()
    {
        MakeGroup("");
        MakeGroup("vz/ct1");
        var backend = new CgroupV2Backend(root);
        backend.Apply("vz/ct1", new CgroupLimits
        {
            MemorySize = 134217728,
            MemorySwapLimit = 134217728 + 67108864,
            MemoryLow = 67108864,
            CpuUnits = 1000,
            CpuQuotaMicroseconds = 50000,
            CpuPeriodMicroseconds = 100000,
            CpuSet = "0-1",
            PidsLimit = 512,
        });
        Assert.Equal("134217728", Read("vz/ct1", "memory.max"));
        Assert.Equal("67108864", Read("vz/ct1", "memory.swap.max"));
        Assert.Equal("67108864", Read("vz/ct1", "memory.low"));
        Assert.Equal("100", Read("vz/ct1", "cpu.weight"));
        Assert.Equal("50000 100000", Read("vz/ct1", "cpu.max"));
        Assert.Equal("0-1", Read("vz/ct1", "cpuset.cpus"));
        Assert.Equal("512", Read("vz/ct1", "pids.max"));
    }

    [Fact]
    public void NullLeavesAloneAndMinusOneIsMax()
    {
        MakeGroup("vz/ct1");
        File.WriteAllText(Path.Combine(root, "vz/ct1/memory.max"), "1000");
        File.WriteAllText(Path.Combine(root, "vz/ct1/cpu.max"), "20000 100000");
        var backend = new CgroupV2Backend(root);
        backend.Apply("vz/ct1", new CgroupLimits { PidsLimit = -1 });
        Assert.Equal("1000", Read("vz/ct1", "memory.max"));
        Assert.Equal("max", Read("vz/ct1", "pids.max"));
        backend.Apply("vz/ct1", new CgroupLimits { CpuQuotaMicroseconds = -1 });
        Assert.Equal("max 100000", Read("vz/ct1", "cpu.max"));
        backend.Apply("vz/ct1", new CgroupLimits { MemorySwapLimit = 3000 }); // swap alone: total minus the current memory.max
        Assert.Equal("2000", Read("vz/ct1", "memory.swap.max"));
    }

    [Fact]
    public void MissingInterfaceFileIsAnErrorNotACreatedFile()
    {
        MakeGroup("vz/ct1");
        File.Delete(Path.Combine(root, "vz/ct1/pids.max"));
        Assert.ThrowsAny<IOException>(() => new CgroupV2Backend(root).Apply("vz/ct1", new CgroupLimits { PidsLimit = 5 }));
        Assert.False(File.Exists(Path.Combine(root, "vz/ct1/pids.max")));
    }

    [Fact]
    public void StatsReadV2Counters()
    {
        var dir = MakeGroup("vz/ct1");
        File.WriteAllText(Path.Combine(dir, "memory.current"), "4096\n");
        File.WriteAllText(Path.Combine(dir, "memory.peak"), "8192\n");
        File.WriteAllText(Path.Combine(dir, "memory.events"), "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\noom_group_kill 0\n");
        File.WriteAllText(Path.Combine(dir, "cpu.stat"), "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n");
        File.WriteAllText(Path.Combine(dir, "pids.current"), "3\n");
        File.WriteAllText(Path.Combine(dir, "cgroup.events"), "populated 1\nfrozen 1\n");
        var s = new CgroupV2Backend(root).ReadStats("vz/ct1");
        Assert.Equal(new CgroupStats(4096, 8192, 2, TimeSpan.FromSeconds(1.5), 3, true), s);
    }

    [Fact]
    public void MissingGroupHasEmptyStats() => Assert.Equal(CgroupStats.Empty, new CgroupV2Backend(root).ReadStats("vz/none"));

    [Fact]
    public void DeletePrunesEmptyParentsUpToTheGivenOne()
    {
        MakeGroup("vz/ct1");
        MakeGroup("vz/ct2");
        var backend = new CgroupV2Backend(root);
        // The fixture's interface files are plain files, which a real cgroupfs rmdir ignores; drop them first.
        foreach (var ct in new[] { "vz/ct1", "vz/ct2" }) foreach (var f in Directory.GetFiles(Path.Combine(root, ct))) File.Delete(f);
        foreach (var f in Directory.GetFiles(Path.Combine(root, "vz"))) File.Delete(f);
        backend.Delete("vz/ct1", "vz");
        Assert.False(Directory.Exists(Path.Combine(root, "vz/ct1")));
        Assert.True(Directory.Exists(Path.Combine(root, "vz")));
        backend.Delete("vz/ct2", "vz");
        Assert.False(Directory.Exists(Path.Combine(root, "vz")));
        Assert.True(Directory.Exists(root));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("vz/../../etc")]
    [InlineData("")]
    public void PathsCannotEscape(string path) =>
        Assert.Throws<Errors.VzInvalidArgumentException>(() => new CgroupV2Backend(root).Create(path));

    [Fact]
    public void ModeIsV2() => Assert.Equal(CgroupMode.V2, new CgroupV2Backend(root).Mode);
}
