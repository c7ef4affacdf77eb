using Xunit;
using System.Diagnostics;
using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Cgroups.V1;
using Virtuozzo.Engine.Cgroups.V2;
using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Tests.Cgroups;

/// <summary>The backends against the kernel's own cgroup files on this host (v1 hierarchies, and the hybrid unified mount).</summary>
public sealed class CgroupRealTests : IDisposable
{
    private readonly string parent = "vzxunit-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<Process> processes = [];

    public void Dispose()
    {
        foreach (var p in processes) { try { p.Kill(); p.WaitForExit(2000); } catch (InvalidOperationException) { } p.Dispose(); }
        try { CgroupV1Backend.FromMountInfo().Delete(parent + "/x", parent); } catch (Exception) { }
    }

    private Process Sleeper()
    {
        var p = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        processes.Add(p);
        return p;
    }

    private static string Read(ICgroupBackend b, string controller, string path, string file) =>
        File.ReadAllText(Path.Combine(b.HostPath(controller, path)!, file)).Trim();

    [RootCgroupV1Fact]
    public void V1LimitsLandInTheKernelFiles()
    {
        var b = CgroupV1Backend.FromMountInfo();
        var g = parent + "/ct1";
        b.Create(g);
        try
        {
            b.Apply(g, new CgroupLimits
            {
                MemorySize = 134217728, MemorySwapLimit = 134217728 + 33554432, MemoryLow = 67108864,
                CpuUnits = 2000, CpuPeriodMicroseconds = 100000, CpuQuotaMicroseconds = 50000, CpuSet = "0", PidsLimit = 64,
            });
            Assert.Equal("134217728", Read(b, "memory", g, "memory.limit_in_bytes"));
            Assert.Equal("167772160", Read(b, "memory", g, "memory.memsw.limit_in_bytes"));
            Assert.Equal("67108864", Read(b, "memory", g, "memory.soft_limit_in_bytes"));
            Assert.Equal("2048", Read(b, "cpu", g, "cpu.shares"));
            Assert.Equal("50000", Read(b, "cpu", g, "cpu.cfs_quota_us"));
            Assert.Equal("0", Read(b, "cpuset", g, "cpuset.cpus"));
            Assert.Equal("64", Read(b, "pids", g, "pids.max"));

            // Growing memory above the current memsw must reorder the writes; shrinking too.
            b.Apply(g, new CgroupLimits { MemorySize = 268435456, MemorySwapLimit = 268435456 });
            Assert.Equal("268435456", Read(b, "memory", g, "memory.limit_in_bytes"));
            b.Apply(g, new CgroupLimits { MemorySize = 67108864, MemorySwapLimit = 67108864, CpuQuotaMicroseconds = -1, PidsLimit = -1 });
            Assert.Equal("67108864", Read(b, "memory", g, "memory.memsw.limit_in_bytes"));
            Assert.Equal("-1", Read(b, "cpu", g, "cpu.cfs_quota_us"));
            Assert.Equal("max", Read(b, "pids", g, "pids.max"));
        }
        finally { b.Delete(g, parent); }
        Assert.False(Directory.Exists(b.HostPath("memory", parent)));
        Assert.False(Directory.Exists(b.HostPath("cpuset", parent)));
    }

    [RootCgroupV1Fact]
    public void V1ProcessesStatsFreezeAndDelete()
    {
        var b = CgroupV1Backend.FromMountInfo();
        var g = parent + "/ct2";
        var p = Sleeper();
        b.AddProcess(g, p.Id);
        try
        {
            Assert.Contains(p.Id, b.ListProcesses(g));
            var s = b.ReadStats(g);
            Assert.Equal(1, s.ProcessCount);
            Assert.True(s.MemoryCurrent >= 0);
            Assert.False(s.Frozen);

            b.SetFrozen(g, true, TimeSpan.FromSeconds(5));
            Assert.True(b.ReadStats(g).Frozen);
            Assert.Contains("FROZEN", File.ReadAllText(Path.Combine(b.HostPath("freezer", g)!, "freezer.state")));
            b.SetFrozen(g, false, TimeSpan.FromSeconds(5));
            Assert.False(b.ReadStats(g).Frozen);

            Assert.Throws<Errors.VzInvalidStateException>(() => b.Delete(g, parent)); // busy: a live process inside
        }
        finally
        {
            p.Kill();
            p.WaitForExit(5000);
        }
        b.Delete(g, parent);
        Assert.False(b.Exists(g));
        Assert.Equal(CgroupStats.Empty, b.ReadStats(g));
    }

    [RootCgroupV1Fact]
    public void V1RefusedValueIsATypedError()
    {
        var b = CgroupV1Backend.FromMountInfo();
        var g = parent + "/ct3";
        b.Create(g);
        try
        {
            var ex = Assert.Throws<Errors.VzInvalidArgumentException>(() => b.Apply(g, new CgroupLimits { CpuSet = "63" }));
            Assert.Equal("VzCgroupWriteRefused", ex.ErrorId);
        }
        finally { b.Delete(g, parent); }
    }

    [RootCgroupV2MountFact]
    public void V2FreezeAndProcsOnTheRealUnifiedMount()
    {
        // The hybrid unified mount holds no memory/cpu controller, but procs, freeze and delete are real v2 code paths.
        var b = new CgroupV2Backend(CgroupLayout.Read().UnifiedMount!);
        var g = parent + "/ct4";
        var p = Sleeper();
        b.AddProcess(g, p.Id);
        try
        {
            Assert.Equal([p.Id], b.ListProcesses(g));
            b.SetFrozen(g, true, TimeSpan.FromSeconds(5));
            Assert.True(b.ReadStats(g).Frozen);
            Assert.Equal('S', ReadState(p.Id)); // a frozen task sleeps in the freezer
            b.SetFrozen(g, false, TimeSpan.FromSeconds(5));
            Assert.False(b.ReadStats(g).Frozen);
        }
        finally
        {
            p.Kill();
            p.WaitForExit(5000);
        }
        b.Delete(g, parent);
        Assert.False(b.Exists(parent));
    }

    private static char ReadState(int pid) => Virtuozzo.Engine.Processes.ProcStat.Read(pid)!.State;
}
