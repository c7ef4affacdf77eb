using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Cgroups.V1;

/// <summary>
/// cgroup v1: one hierarchy per controller (or a few co-mounted). Limits go to the memory, cpu, cpuset and pids
/// hierarchies, usage comes from memory, cpuacct and pids, freezing from freezer. Deletion sweeps every v1
/// hierarchy (and the hybrid unified one) because an OCI runtime also makes groups in devices, blkio, name=systemd.
/// </summary>
public sealed class CgroupV1Backend : ICgroupBackend
{
    /// <summary>Controllers a group is made in; the rest are the runtime's business.</summary>
    private static readonly string[] Used = ["memory", "cpu", "cpuacct", "cpuset", "pids", "freezer"];

    private readonly IReadOnlyDictionary<string, string> mounts;
    private readonly IReadOnlyList<string> allHierarchies;

    /// <param name="controllerMounts">Controller name to its hierarchy's mount point.</param>
    /// <param name="otherHierarchies">Further mount points swept on delete (name=systemd, the hybrid unified mount).</param>
    public CgroupV1Backend(IReadOnlyDictionary<string, string> controllerMounts, IEnumerable<string>? otherHierarchies = null)
    {
        if (!controllerMounts.ContainsKey("memory"))
            throw new Errors.VzCapabilityMissingException("VzCgroupControllerMissing", "The cgroup v1 memory controller is not mounted.", "memory", "memory cgroup");
        mounts = controllerMounts;
        allHierarchies = controllerMounts.Values.Concat(otherHierarchies ?? []).Distinct().ToArray();
    }

    public CgroupMode Mode => CgroupMode.V1;

    /// <summary>Reads the host's v1 mounts (and the hybrid unified mount, for deletion) from mountinfo.</summary>
    public static CgroupV1Backend FromMountInfo(string mountInfoPath = MountInfo.SelfPath)
    {
        var controllers = new Dictionary<string, string>(StringComparer.Ordinal);
        var others = new List<string>();
        foreach (var mount in MountInfo.Read(mountInfoPath))
        {
            var mountPoint = mount.MountPoint;
            if (mount.FileSystemType == "cgroup2") { others.Add(mountPoint); continue; }
            if (mount.FileSystemType != "cgroup") continue;
            var named = false;
            foreach (var opt in mount.SuperOptions.Split(','))
            {
                if (opt.StartsWith("name=", StringComparison.Ordinal)) named = true;
                else if (opt is "cpu" or "cpuacct" or "cpuset" or "memory" or "devices" or "freezer" or "net_cls" or "blkio"
                         or "perf_event" or "net_prio" or "hugetlb" or "pids" or "rdma" or "misc")
                    controllers.TryAdd(opt, mountPoint);
            }
            if (named) others.Add(mountPoint);
        }
        return new CgroupV1Backend(controllers, others);
    }

    public string? HostPath(string controller, string path) =>
        mounts.TryGetValue(controller, out var m) ? Path.Combine(m, CgroupFile.CheckPath(path)) : null;

    private IEnumerable<string> UsedDirs(string rel) =>
        Used.Where(mounts.ContainsKey).Select(c => mounts[c]).Distinct().Select(m => Path.Combine(m, rel));

    public bool Exists(string path) => Directory.Exists(HostPath("memory", path));

    public void Create(string path)
    {
        var rel = CgroupFile.CheckPath(path);
        foreach (var dir in UsedDirs(rel)) Directory.CreateDirectory(dir);
        // A new cpuset group starts with no CPUs and no memory nodes, and refuses tasks until both are set;
        // fill each new level from its parent, top down.
        if (mounts.TryGetValue("cpuset", out var cpusetMount))
        {
            var parts = rel.Split('/');
            for (var i = 1; i <= parts.Length; i++)
            {
                var dir = Path.Combine(cpusetMount, string.Join('/', parts[..i]));
                var parent = Path.GetDirectoryName(dir)!;
                foreach (var file in new[] { "cpuset.cpus", "cpuset.mems" })
                    if (CgroupFile.Read(Path.Combine(dir, file)) is { } v && v.Trim().Length == 0 && CgroupFile.Read(Path.Combine(parent, file)) is { } pv)
                        CgroupFile.Write(Path.Combine(dir, file), pv.Trim());
            }
        }
    }

    public void Apply(string path, CgroupLimits limits)
    {
        var rel = CgroupFile.CheckPath(path);
        if (mounts.TryGetValue("memory", out var memMount)) ApplyMemory(Path.Combine(memMount, rel), limits);
        if (mounts.TryGetValue("cpu", out var cpuMount))
        {
            var dir = Path.Combine(cpuMount, rel);
            if (limits.CpuUnits is { } units) CgroupFile.Write(Path.Combine(dir, "cpu.shares"), CgroupUnits.SharesFromUnits(units).ToString());
            if (limits.CpuPeriodMicroseconds is { } period) CgroupFile.Write(Path.Combine(dir, "cpu.cfs_period_us"), period.ToString());
            if (limits.CpuQuotaMicroseconds is { } quota) CgroupFile.Write(Path.Combine(dir, "cpu.cfs_quota_us"), quota < 0 ? "-1" : quota.ToString());
        }
        if (limits.CpuSet is { } cpus && mounts.TryGetValue("cpuset", out var cpusetMount))
            CgroupFile.Write(Path.Combine(cpusetMount, rel, "cpuset.cpus"), cpus);
        if (limits.PidsLimit is { } pids && mounts.TryGetValue("pids", out var pidsMount))
            CgroupFile.Write(Path.Combine(pidsMount, rel, "pids.max"), pids < 0 ? "max" : pids.ToString());
    }

    private static void ApplyMemory(string dir, CgroupLimits limits)
    {
        var limitFile = Path.Combine(dir, "memory.limit_in_bytes");
        var memswFile = Path.Combine(dir, "memory.memsw.limit_in_bytes");
        var hasMemsw = File.Exists(memswFile); // absent without swap accounting
        static string V(long v) => v < 0 ? "-1" : v.ToString();
        if (limits.MemorySize is { } mem && limits.MemorySwapLimit is { } memsw && hasMemsw)
        {
            // The kernel keeps limit <= memsw at every step: grow memsw first, shrink the limit first.
            var currentMemsw = CgroupFile.ReadLong(memswFile, long.MaxValue);
            var growing = memsw < 0 || (ulong)memsw >= (ulong)currentMemsw;
            if (growing) { CgroupFile.Write(memswFile, V(memsw)); CgroupFile.Write(limitFile, V(mem)); }
            else { CgroupFile.Write(limitFile, V(mem)); CgroupFile.Write(memswFile, V(memsw)); }
        }
        else
        {
            if (limits.MemorySize is { } m) CgroupFile.Write(limitFile, V(m));
            if (limits.MemorySwapLimit is { } s && hasMemsw) CgroupFile.Write(memswFile, V(s));
        }
        if (limits.MemoryLow is { } low) CgroupFile.Write(Path.Combine(dir, "memory.soft_limit_in_bytes"), low <= 0 ? "-1" : low.ToString());
    }

    public void AddProcess(string path, int pid)
    {
        var rel = CgroupFile.CheckPath(path);
        Create(rel);
        foreach (var dir in UsedDirs(rel)) CgroupFile.Write(Path.Combine(dir, "cgroup.procs"), pid.ToString());
    }

    public IReadOnlyList<int> ListProcesses(string path) =>
        CgroupFile.ReadPids(Path.Combine(HostPath("memory", path)!, "cgroup.procs"));

    public void SetFrozen(string path, bool frozen, TimeSpan timeout)
    {
        var dir = HostPath("freezer", path) ?? throw new Errors.VzCapabilityMissingException("VzCgroupControllerMissing",
            "The cgroup v1 freezer controller is not mounted.", path, "freezer cgroup");
        var file = Path.Combine(dir, "freezer.state");
        var want = frozen ? "FROZEN" : "THAWED";
        CgroupFile.Write(file, want);
        var deadline = DateTime.UtcNow + timeout;
        // FREEZING means some task has not stopped yet; writing FROZEN again retries it.
        while ((CgroupFile.Read(file) ?? "").Trim() != want)
        {
            if (DateTime.UtcNow > deadline)
                throw new Errors.VzTimeoutException("VzFreezeTimedOut", $"The cgroup {path} did not reach {want} within {timeout.TotalSeconds:0.#} s.", path, timeout);
            Thread.Sleep(10);
            CgroupFile.Write(file, want);
        }
    }

    public CgroupStats ReadStats(string path)
    {
        var rel = CgroupFile.CheckPath(path);
        // The first read is also the existence check (a group that is gone reads nothing): no stat per container.
        if (HostPath("memory", rel) is not { } mem || CgroupFile.Read(Path.Combine(mem, "memory.usage_in_bytes")) is not { } usage)
            return CgroupStats.Empty;
        var cpuNs = mounts.TryGetValue("cpuacct", out var acct) ? CgroupFile.ReadLong(Path.Combine(acct, rel, "cpuacct.usage")) : 0;
        var tasks = mounts.TryGetValue("pids", out var pidsMount)
            ? (int)CgroupFile.ReadLong(Path.Combine(pidsMount, rel, "pids.current"))
            : CgroupFile.ReadPids(Path.Combine(mem, "tasks")).Count;
        var frozen = HostPath("freezer", rel) is { } f && (CgroupFile.Read(Path.Combine(f, "freezer.state")) ?? "").Trim() == "FROZEN";
        return new CgroupStats(
            long.TryParse(usage.Trim(), out var current) ? current : 0,
            CgroupFile.ReadLong(Path.Combine(mem, "memory.max_usage_in_bytes")),
            CgroupFile.ReadKeyed(Path.Combine(mem, "memory.oom_control"), "oom_kill"),
            TimeSpan.FromTicks(cpuNs / 100),
            tasks,
            frozen);
    }

    public void Delete(string path, string? pruneUpTo = null)
    {
        var rel = CgroupFile.CheckPath(path);
        foreach (var mount in allHierarchies)
        {
            CgroupFile.RemoveGroup(Path.Combine(mount, rel), TimeSpan.FromSeconds(5));
            CgroupFile.PruneParents(mount, rel, pruneUpTo);
        }
    }
}
