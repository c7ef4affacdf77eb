using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Cgroups.V2;

/// <summary>
/// cgroup v2: one unified tree. Controllers are enabled down the path through cgroup.subtree_control; the
/// container's own group is a leaf (processes live only in leaves).
/// </summary>
/// <param name="mountPoint">The cgroup2 mount.</param>
/// <param name="delegatedParent">
/// The module's parent group (for example "vz"). When given, controllers are enabled only from it down (the groups
/// above belong to whoever delegated it) and <see cref="CheckControllers"/> checks what it was given. Null enables
/// them from the mount root down.
/// </param>
public sealed class CgroupV2Backend(string mountPoint, string? delegatedParent = null) : ICgroupBackend
{
    private static readonly string[] Wanted = ["cpuset", "cpu", "memory", "pids"];

    public CgroupMode Mode => CgroupMode.V2;

    public string MountPoint => mountPoint;

    public string? HostPath(string controller, string path) => Path.Combine(mountPoint, CgroupFile.CheckPath(path));

    private string Dir(string path) => Path.Combine(mountPoint, CgroupFile.CheckPath(path));

    public bool Exists(string path) => Directory.Exists(Dir(path));

    public void Create(string path)
    {
        var parts = CgroupFile.CheckPath(path).Split('/');
        var owned = delegatedParent is null ? 0 : CgroupFile.CheckPath(delegatedParent).Split('/').Length;
        var current = mountPoint;
        for (var i = 0; i < parts.Length; i++)
        {
            if (i >= owned) EnableControllers(current);
            current = Path.Combine(current, parts[i]);
            Directory.CreateDirectory(current);
        }
    }

    /// <summary>Fails with the missing controller's name when the module's parent group lacks one these limits need.</summary>
    public void CheckControllers(string path, CgroupLimits limits)
    {
        var parent = delegatedParent ?? Path.GetDirectoryName(CgroupFile.CheckPath(path));
        if (!string.IsNullOrEmpty(parent)) CgroupV2Delegation.Check(mountPoint, parent, limits); // the root has every controller
    }

    /// <summary>Enables in <paramref name="dir"/>'s children every wanted controller <paramref name="dir"/> has.</summary>
    private static void EnableControllers(string dir)
    {
        var available = (CgroupFile.Read(Path.Combine(dir, "cgroup.controllers")) ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var enabled = (CgroupFile.Read(Path.Combine(dir, "cgroup.subtree_control")) ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var missing = Wanted.Where(c => available.Contains(c) && !enabled.Contains(c)).ToArray();
        if (missing.Length > 0) CgroupFile.TryWrite(Path.Combine(dir, "cgroup.subtree_control"), string.Join(' ', missing.Select(c => "+" + c)));
    }

    public void Apply(string path, CgroupLimits limits)
    {
        var dir = Dir(path);
        static string V(long v) => v < 0 ? "max" : v.ToString();
        if (limits.MemorySize is { } mem) CgroupFile.Write(Path.Combine(dir, "memory.max"), V(mem));
        if (limits.MemorySwapLimit is { } memsw)
        {
            // v2 limits swap alone; the config (like v1 memsw) names memory + swap.
            var memory = limits.MemorySize ?? ParseMax(CgroupFile.Read(Path.Combine(dir, "memory.max")));
            var swap = memsw < 0 || memory < 0 ? -1 : Math.Max(0, memsw - memory);
            CgroupFile.TryWrite(Path.Combine(dir, "memory.swap.max"), V(swap));
        }
        if (limits.MemoryLow is { } low)
        {
            CgroupFile.Write(Path.Combine(dir, "memory.low"), Math.Max(0, low).ToString());
            MemoryProtection.PropagateUp(mountPoint, CgroupFile.CheckPath(path));
        }
        if (limits.CpuUnits is { } units) CgroupFile.Write(Path.Combine(dir, "cpu.weight"), CgroupUnits.WeightFromUnits(units).ToString());
        if (limits.CpuQuotaMicroseconds is not null || limits.CpuPeriodMicroseconds is not null)
        {
            var current = (CgroupFile.Read(Path.Combine(dir, "cpu.max")) ?? "max 100000").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var quota = limits.CpuQuotaMicroseconds is { } q ? V(q) : current.ElementAtOrDefault(0) ?? "max";
            var period = limits.CpuPeriodMicroseconds?.ToString() ?? current.ElementAtOrDefault(1) ?? CgroupUnits.DefaultCfsPeriod.ToString();
            CgroupFile.Write(Path.Combine(dir, "cpu.max"), $"{quota} {period}");
        }
        if (limits.CpuSet is { } cpus) CgroupFile.Write(Path.Combine(dir, "cpuset.cpus"), cpus);
        if (limits.PidsLimit is { } pids) CgroupFile.Write(Path.Combine(dir, "pids.max"), V(pids));
    }

    private static long ParseMax(string? text) => text is null || text.Trim() == "max" || !long.TryParse(text.Trim(), out var v) ? -1 : v;

    public void AddProcess(string path, int pid)
    {
        Create(path);
        CgroupFile.Write(Path.Combine(Dir(path), "cgroup.procs"), pid.ToString());
    }

    public IReadOnlyList<int> ListProcesses(string path) => CgroupFile.ReadPids(Path.Combine(Dir(path), "cgroup.procs"));

    public void SetFrozen(string path, bool frozen, TimeSpan timeout)
    {
        var dir = Dir(path);
        CgroupFile.Write(Path.Combine(dir, "cgroup.freeze"), frozen ? "1" : "0");
        var deadline = DateTime.UtcNow + timeout;
        // cgroup.events says "frozen 1" once every task has stopped.
        while (CgroupFile.ReadKeyed(Path.Combine(dir, "cgroup.events"), "frozen", frozen ? 1 : 0) != (frozen ? 1 : 0))
        {
            if (DateTime.UtcNow > deadline)
                throw new Errors.VzTimeoutException("VzFreezeTimedOut", $"The cgroup {path} did not {(frozen ? "freeze" : "thaw")} within {timeout.TotalSeconds:0.#} s.", path, timeout);
            Thread.Sleep(10);
        }
    }

    public CgroupStats ReadStats(string path)
    {
        var dir = Dir(path);
        // cgroup.events is in every group: its read is also the existence check (a group that is gone reads nothing),
        // and a missing pids.current reads nothing too, so a listing pays no stat per container.
        if (CgroupFile.Read(Path.Combine(dir, "cgroup.events")) is not { } events) return CgroupStats.Empty;
        var usec = CgroupFile.ReadKeyed(Path.Combine(dir, "cpu.stat"), "usage_usec");
        var tasks = CgroupFile.Read(Path.Combine(dir, "pids.current")) is { } current && int.TryParse(current.Trim(), out var n)
            ? n
            : CgroupFile.ReadPids(Path.Combine(dir, "cgroup.procs")).Count;
        return new CgroupStats(
            CgroupFile.ReadLong(Path.Combine(dir, "memory.current")),
            CgroupFile.ReadLong(Path.Combine(dir, "memory.peak")),
            CgroupFile.ReadKeyed(Path.Combine(dir, "memory.events"), "oom_kill"),
            TimeSpan.FromTicks(usec * 10),
            tasks,
            CgroupFile.Keyed(events, "frozen") == 1);
    }

    public void Delete(string path, string? pruneUpTo = null)
    {
        var rel = CgroupFile.CheckPath(path);
        CgroupFile.RemoveGroup(Path.Combine(mountPoint, rel), TimeSpan.FromSeconds(5));
        MemoryProtection.PropagateUp(mountPoint, rel); // the ancestors no longer hold this group's guarantee
        CgroupFile.PruneParents(mountPoint, rel, pruneUpTo);
    }
}
