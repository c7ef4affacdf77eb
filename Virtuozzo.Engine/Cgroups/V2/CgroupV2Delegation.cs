using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Cgroups.V2;

/// <summary>
/// Which controllers the module's parent group (<see cref="Configuration.VzPaths.CgroupParent"/>, "vz" by default)
/// may use on cgroup v2, and which ones a set of limits needs. The groups above the parent belong to whoever
/// delegated it (systemd, a container manager, the admin): the module enables controllers only from the parent
/// down, so a controller the parent was not given is a missing capability, named, not a failed file write.
/// </summary>
public static class CgroupV2Delegation
{
    /// <summary>
    /// The controllers the group <paramref name="parent"/> can use: its own cgroup.controllers when it exists,
    /// else what its nearest existing ancestor enables for its children (a new group gets exactly that).
    /// </summary>
    public static IReadOnlyList<string> Delegated(string mountPoint, string parent)
    {
        var rel = CgroupFile.CheckPath(parent);
        var dir = Path.Combine(mountPoint, rel);
        if (Directory.Exists(dir)) return Words(CgroupFile.Read(Path.Combine(dir, "cgroup.controllers")));
        for (var up = Path.GetDirectoryName(rel); ; up = Path.GetDirectoryName(up))
        {
            var upDir = string.IsNullOrEmpty(up) ? mountPoint : Path.Combine(mountPoint, up);
            if (Directory.Exists(upDir)) return Words(CgroupFile.Read(Path.Combine(upDir, "cgroup.subtree_control")));
            if (string.IsNullOrEmpty(up)) return [];
        }
    }

    /// <summary>The controllers whose files the set (non-null) limits are written to.</summary>
    public static IReadOnlyList<string> Required(CgroupLimits limits)
    {
        var needed = new List<string>();
        if (limits.MemorySize is not null || limits.MemorySwapLimit is not null || limits.MemoryLow is not null) needed.Add("memory");
        if (limits.CpuUnits is not null || limits.CpuQuotaMicroseconds is not null || limits.CpuPeriodMicroseconds is not null) needed.Add("cpu");
        if (limits.CpuSet is not null) needed.Add("cpuset");
        if (limits.PidsLimit is not null) needed.Add("pids");
        return needed;
    }

    /// <summary>Throws <see cref="VzCapabilityMissingException"/> naming every controller the limits need and the parent lacks.</summary>
    public static void Check(string mountPoint, string parent, CgroupLimits limits)
    {
        var delegated = Delegated(mountPoint, parent);
        var missing = Required(limits).Where(c => !delegated.Contains(c)).ToArray();
        if (missing.Length == 0) return;
        var names = string.Join(", ", missing);
        throw new VzCapabilityMissingException("VzCgroupControllerMissing",
            $"The cgroup v2 controller{(missing.Length > 1 ? "s" : "")} {names} {(missing.Length > 1 ? "are" : "is")} not delegated to the group " +
            $"'{parent.Trim('/')}' (it has: {(delegated.Count > 0 ? string.Join(' ', delegated) : "none")}), so its limits cannot be set.",
            parent, missing[0] + " cgroup controller")
        {
            RecommendedAction = $"Enable {names} for '{parent.Trim('/')}' in the parent group's cgroup.subtree_control " +
                "(under systemd: Delegate= on the unit that owns it), or choose another parent with $env:VZ_CGROUP_PARENT.",
        };
    }

    internal static IReadOnlyList<string> Words(string? text) =>
        (text ?? "").Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
