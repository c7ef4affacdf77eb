using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Cgroups.V2;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Tests.Cgroups;

/// <summary>
/// What the v2 backend does above a VE's own group, on a file tree laid out like a cgroup2 mount: memory.low summed
/// up every ancestor, controllers enabled only from the module's parent down, and a missing controller named.
/// (The same behaviour against a real kernel: CgroupV2/ in the v2 test host.)
/// </summary>
public sealed class CgroupV2ParentTests : IDisposable
{
    private const long MiB = 1 << 20;
    private readonly string root = Directory.CreateTempSubdirectory("vz-cg2p-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string Group(string rel, string controllers = "cpuset cpu io memory pids", string subtree = "")
    {
        var dir = rel.Length == 0 ? root : Path.Combine(root, rel);
        Directory.CreateDirectory(dir);
        foreach (var f in new[] { "memory.low", "cgroup.procs", "memory.max" }) File.WriteAllText(Path.Combine(dir, f), "0");
        File.WriteAllText(Path.Combine(dir, "cgroup.controllers"), controllers);
        File.WriteAllText(Path.Combine(dir, "cgroup.subtree_control"), subtree);
        return dir;
    }

    private long Low(string rel) => long.Parse(File.ReadAllText(Path.Combine(root, rel, "memory.low")));

    [Fact]
    public void EveryAncestorHoldsTheSumOfItsChildrensGuarantees()
    {
        Group("");
        Group("machine");
        Group("machine/vz");
        Group("machine/vz/ct1");
        Group("machine/vz/ct2");
        Group("machine/other");
        File.WriteAllText(Path.Combine(root, "machine/other/memory.low"), (10 * MiB).ToString());
        var b = new CgroupV2Backend(root);
        b.Apply("machine/vz/ct1", new CgroupLimits { MemoryLow = 64 * MiB });
        Assert.Equal(64 * MiB, Low("machine/vz"));
        Assert.Equal(74 * MiB, Low("machine"));
        b.Apply("machine/vz/ct2", new CgroupLimits { MemoryLow = 32 * MiB });
        Assert.Equal(96 * MiB, Low("machine/vz"));
        Assert.Equal(106 * MiB, Low("machine"));
        b.Apply("machine/vz/ct1", new CgroupLimits { MemoryLow = 0 }); // a live change down
        Assert.Equal(32 * MiB, Low("machine/vz"));
        Assert.Equal(42 * MiB, Low("machine"));
        Assert.Equal("0", File.ReadAllText(Path.Combine(root, "memory.low"))); // the mount root is never written
    }

    [Fact]
    public void DeletingAGroupTakesItsGuaranteeOffTheAncestors()
    {
        Group("vz");
        var ct1 = Group("vz/ct1");
        Group("vz/ct2");
        var b = new CgroupV2Backend(root);
        b.Apply("vz/ct1", new CgroupLimits { MemoryLow = 64 * MiB });
        b.Apply("vz/ct2", new CgroupLimits { MemoryLow = 16 * MiB });
        Assert.Equal(80 * MiB, Low("vz"));
        foreach (var f in Directory.GetFiles(ct1)) File.Delete(f); // a real cgroupfs rmdir ignores interface files
        b.Delete("vz/ct1", "vz");
        Assert.Equal(16 * MiB, Low("vz"));
    }

    [Fact]
    public void ControllersAreEnabledOnlyFromTheModulesParentDown()
    {
        Group("", subtree: "cpu pids");
        Group("vz");
        Group("vz/ct1");
        new CgroupV2Backend(root, "vz").Create("vz/ct1");
        Assert.Equal("cpu pids", File.ReadAllText(Path.Combine(root, "cgroup.subtree_control"))); // not ours to change
        Assert.Equal("+cpuset +cpu +memory +pids", File.ReadAllText(Path.Combine(root, "vz", "cgroup.subtree_control")));
    }

    [Fact]
    public void AMissingControllerIsNamedBeforeAnythingIsMade()
    {
        Group("", subtree: "cpuset cpu pids");
        var b = new CgroupV2Backend(root, "vz");
        var limits = new CgroupLimits { MemorySize = 64 * MiB, CpuUnits = 1000, PidsLimit = 10 };
        var ex = Assert.Throws<VzCapabilityMissingException>(() => b.CheckControllers("vz/ct1", limits));
        Assert.Equal("VzCgroupControllerMissing", ex.ErrorId);
        Assert.Equal("memory cgroup controller", ex.Capability);
        Assert.Contains("memory is not delegated to the group 'vz'", ex.Message);
        Assert.Contains("cpuset cpu pids", ex.Message);
        Assert.False(Directory.Exists(Path.Combine(root, "vz")));
        b.CheckControllers("vz/ct1", new CgroupLimits { CpuUnits = 1000, PidsLimit = 10 }); // what it has is enough for these
    }

    [Fact]
    public void DelegatedControllersComeFromTheParentOrTheNearestAncestor()
    {
        Group("", subtree: "cpu memory pids");
        Assert.Equal(["cpu", "memory", "pids"], CgroupV2Delegation.Delegated(root, "vz"));        // not made yet: what the root passes down
        Assert.Equal(["cpu", "memory", "pids"], CgroupV2Delegation.Delegated(root, "a/b/vz"));
        Group("vz", controllers: "cpu pids");
        Assert.Equal(["cpu", "pids"], CgroupV2Delegation.Delegated(root, "vz"));                  // made: its own cgroup.controllers
    }

    [Fact]
    public void RequiredControllersFollowTheLimitsThatAreSet()
    {
        Assert.Empty(CgroupV2Delegation.Required(new CgroupLimits()));
        Assert.Equal(["memory", "cpu", "cpuset", "pids"], CgroupV2Delegation.Required(new CgroupLimits { MemoryLow = 1, CpuQuotaMicroseconds = 1, CpuSet = "0", PidsLimit = 1 }));
    }
}
