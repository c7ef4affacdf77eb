using Virtuozzo.Engine.Cgroups.V2;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Tests.CgroupV2;

/// <summary>
/// Containers on a pure cgroup v2 kernel: every limit in its kernel file, live changes, the guarantee's protection
/// along the whole path, freeze, the OOM killer, the namespaces, and no group left behind. Runs in the v2 test host.
/// </summary>
[Trait("Category", "CgroupV2")]
public sealed class CgroupV2ContainerTests : CgroupV2Ves
{
    private const long MiB = 1 << 20;

    [CgroupV2HostFact]
    public async Task StartWritesEveryLimitAndStopLeavesNoGroup()
    {
        var ct = await NewAsync("v2limits", new ContainerChanges
        {
            MemorySize = 128 * MiB, SwapSize = 64 * MiB, MemGuarantee = 50,
            CpuUnits = 2000, CpuLimit = 50, CpuMask = "0", PidsLimit = 64,
        });
        ct = await StartAsync(ct);
        Assert.Equal(ContainerState.Running, ct.StateValue);
        var g = Group(ct);
        Assert.Contains(ct.InitPid.ToString(), ReadFile(g, "cgroup.procs").Split('\n'));
        Assert.Equal(128 * MiB, ReadLong(g, "memory.max"));
        Assert.Equal(64 * MiB, ReadLong(g, "memory.swap.max"));
        Assert.Equal(64 * MiB, ReadLong(g, "memory.low"));
        Assert.Equal(200, ReadLong(g, "cpu.weight"));
        Assert.Equal("50000 100000", ReadFile(g, "cpu.max"));
        Assert.Equal("0", ReadFile(g, "cpuset.cpus"));
        Assert.Equal("0", ReadFile(g, "cpuset.cpus.effective"));
        Assert.Equal(64, ReadLong(g, "pids.max"));
        // The guarantee protects only when every ancestor below the root holds it too.
        Assert.Equal(64 * MiB, ReadLong(ParentDir, "memory.low"));

        await StopAsync(ct);
        Assert.False(Directory.Exists(g));
        Assert.False(Directory.Exists(ParentDir)); // the emptied parent is pruned
        await Containers.RemoveAsync(ct.Id, force: false, CancellationToken.None);
        Assert.False(Directory.Exists(ParentDir));
    }

    [CgroupV2HostFact]
    public async Task LiveChangesRewriteTheKernelFiles()
    {
        var ct = await StartAsync(await NewAsync("v2live", new ContainerChanges { MemorySize = 128 * MiB, MemGuarantee = 25, PidsLimit = 32 }));
        var g = Group(ct);
        Assert.Equal(32 * MiB, ReadLong(ParentDir, "memory.low"));

        await Containers.SetAsync(ct.Id, new ContainerChanges
        {
            MemorySize = 256 * MiB, SwapSize = 32 * MiB, MemGuarantee = 50, CpuUnits = 500, CpuLimit = 25, PidsLimit = 100,
        }, CancellationToken.None);
        Assert.Equal(256 * MiB, ReadLong(g, "memory.max"));
        Assert.Equal(32 * MiB, ReadLong(g, "memory.swap.max"));
        Assert.Equal(128 * MiB, ReadLong(g, "memory.low"));
        Assert.Equal(128 * MiB, ReadLong(ParentDir, "memory.low"));
        Assert.Equal(50, ReadLong(g, "cpu.weight"));
        Assert.Equal("25000 100000", ReadFile(g, "cpu.max"));
        Assert.Equal(100, ReadLong(g, "pids.max"));

        // A refused value changes nothing and says which file refused it.
        var ex = await Assert.ThrowsAsync<VzInvalidArgumentException>(() =>
            Containers.SetAsync(ct.Id, new ContainerChanges { MemorySize = 1 * MiB }, CancellationToken.None));
        Assert.NotNull(ex.ErrorId);
        Assert.Equal(256 * MiB, ReadLong(g, "memory.max"));
    }

    [CgroupV2HostFact]
    public async Task GuaranteesAddUpOnTheParentAsVesStartAndStop()
    {
        var a = await StartAsync(await NewAsync("v2prot-a", new ContainerChanges { MemorySize = 128 * MiB, MemGuarantee = 50 }));
        var b = await StartAsync(await NewAsync("v2prot-b", new ContainerChanges { MemorySize = 256 * MiB, MemGuarantee = 25 }));
        Assert.Equal(128 * MiB, ReadLong(ParentDir, "memory.low"));
        await StopAsync(a);
        Assert.Equal(64 * MiB, ReadLong(ParentDir, "memory.low"));
        await Containers.SetAsync(b.Id, new ContainerChanges { MemGuarantee = 0 }, CancellationToken.None);
        Assert.Equal(0, ReadLong(ParentDir, "memory.low"));
        await StopAsync(b);
        Assert.False(Directory.Exists(ParentDir));
    }

    [CgroupV2HostFact]
    public async Task SuspendFreezesThroughCgroupFreeze()
    {
        var ct = await StartAsync(await NewAsync("v2freeze", new ContainerChanges { MemorySize = 64 * MiB }));
        var g = Group(ct);
        ct = await Containers.SuspendAsync(ct.Id, CancellationToken.None);
        Assert.Equal(ContainerState.Suspended, ct.StateValue);
        Assert.Equal("1", ReadFile(g, "cgroup.freeze"));
        Assert.Equal(1, Keyed(g, "cgroup.events", "frozen"));
        ct = await Containers.ResumeAsync(ct.Id, CancellationToken.None);
        Assert.Equal(ContainerState.Running, ct.StateValue);
        Assert.Equal(0, Keyed(g, "cgroup.events", "frozen"));
        Assert.Equal(0, (await ExecAsync(ct, "true")).ExitCode);
    }

    [CgroupV2HostFact]
    public async Task AllocationPastTheLimitIsKilledInsideTheContainerOnly()
    {
        var ct = await StartAsync(await NewAsync("v2oom", new ContainerChanges { MemorySize = 48 * MiB, SwapSize = 0 }));
        var g = Group(ct);
        var before = Keyed(g, "memory.events", "oom_kill");
        // The shell doubles a string until the group's memory.max stops it.
        var r = await ExecAsync(ct, "x=0123456789abcdef; while :; do x=$x$x; done");
        Assert.NotEqual(0, r.ExitCode);
        Assert.True(Keyed(g, "memory.events", "oom_kill") > before, "the kill is counted in the container's memory.events");
        ct = Containers.Describe(ct.Id);
        Assert.Equal(ContainerState.Running, ct.StateValue); // init survived: the biggest task in the group was chosen
        Assert.True(ct.OomKills >= 1);
        Assert.Equal(0, (await ExecAsync(ct, "true")).ExitCode);
    }

    [CgroupV2HostFact]
    public async Task ContainerHasItsOwnCgroupAndUserNamespaces()
    {
        var ct = await StartAsync(await NewAsync("v2ns", new ContainerChanges { MemorySize = 64 * MiB }));
        var cgroup = await ExecAsync(ct, "cat /proc/self/cgroup");
        Assert.Equal("0::/", cgroup.StdOut.Trim()); // its own group is its root
        var uidMap = await ExecAsync(ct, "cat /proc/self/uid_map");
        var map = uidMap.StdOut.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0", map[0]);
        Assert.NotEqual("0", map[1]); // container root is an unprivileged host uid
        foreach (var ns in new[] { "cgroup", "user" })
            Assert.NotEqual(File.ResolveLinkTarget($"/proc/self/ns/{ns}", false)!.FullName, File.ResolveLinkTarget($"/proc/{ct.InitPid}/ns/{ns}", false)!.FullName);
    }

    [CgroupV2HostFact]
    public async Task RuncRunsTheSameContainer()
    {
        var settings = Environment.GetEnvironmentVariable("VZ_HOST_CONFIG")!;
        new Configuration.HostSettings { ContainerRuntime = "runc" }.Save();
        try
        {
            var ct = await StartAsync(await NewAsync("v2runc", new ContainerChanges { MemorySize = 96 * MiB, MemGuarantee = 50, PidsLimit = 50 }));
            Assert.Equal("runc", ct.Runtime);
            Assert.Equal(96 * MiB, ReadLong(Group(ct), "memory.max"));
            Assert.Equal(48 * MiB, ReadLong(ParentDir, "memory.low"));
            Assert.Equal(50, ReadLong(Group(ct), "pids.max"));
            await StopAsync(ct);
            Assert.False(Directory.Exists(ParentDir));
        }
        finally { File.Delete(settings); }
    }
}

/// <summary>A parent group whose own parent does not delegate the memory controller: a start names it.</summary>
[Trait("Category", "CgroupV2")]
public sealed class CgroupV2DelegationTests() : CgroupV2Ves("vzt-nomem/vz")
{
    [CgroupV2HostFact]
    public async Task StartNamesTheControllerTheParentLacks()
    {
        var boundary = Path.Combine(Mount, "vzt-nomem");
        Directory.CreateDirectory(boundary);
        try
        {
            File.WriteAllText(Path.Combine(boundary, "cgroup.subtree_control"), "+cpu +cpuset +pids");
            Assert.Equal(["cpuset", "cpu", "pids"], CgroupV2Delegation.Delegated(Mount, Parent));
            var ct = await NewAsync("v2nomem", new ContainerChanges { MemorySize = 64 * MiB });
            var ex = await Assert.ThrowsAsync<VzCapabilityMissingException>(() => StartAsync(ct));
            Assert.Equal("VzCgroupControllerMissing", ex.ErrorId);
            Assert.Contains("memory", ex.Message);
            Assert.StartsWith("memory", ex.Capability);
            Assert.Equal(ContainerState.Stopped, Containers.Describe(ct.Id).StateValue);
            Assert.False(Directory.Exists(ParentDir)); // nothing was made
        }
        finally
        {
            await DisposeAsync();
            Directory.Delete(boundary);
        }
    }

    private const long MiB = 1 << 20;
}
