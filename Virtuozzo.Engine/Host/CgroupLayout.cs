namespace Virtuozzo.Engine.Host;

/// <summary>Reads the host's cgroup mounts from mountinfo: which controllers, where, v1 or v2.</summary>
public static class CgroupLayout
{
    public static (CgroupMode Mode, IReadOnlyList<CgroupControllerInfo> Controllers, string? UnifiedMount) Read(string mountInfoPath = MountInfo.SelfPath)
        => Parse(File.ReadAllLines(mountInfoPath), path => File.Exists(path) ? File.ReadAllText(path) : null);

    public static (CgroupMode Mode, IReadOnlyList<CgroupControllerInfo> Controllers, string? UnifiedMount) Parse(
        IEnumerable<string> mountInfoLines, Func<string, string?> readFile)
    {
        var controllers = new List<CgroupControllerInfo>();
        string? unified = null;
        var anyV1 = false;
        foreach (var mount in MountInfo.Parse(mountInfoLines))
        {
            var mountPoint = mount.MountPoint;
            if (mount.FileSystemType == "cgroup2")
            {
                unified ??= mountPoint;
                var list = readFile(Path.Combine(mountPoint, "cgroup.controllers"));
                foreach (var c in (list ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    controllers.Add(new CgroupControllerInfo(c, 2, mountPoint));
            }
            else if (mount.FileSystemType == "cgroup")
            {
                anyV1 = true;
                foreach (var opt in mount.SuperOptions.Split(','))
                    if (opt is not ("rw" or "ro" or "relatime" or "noatime" or "nosuid" or "nodev" or "noexec" or "xattr" or "clone_children")
                        && !opt.StartsWith("name=", StringComparison.Ordinal) && !opt.StartsWith("release_agent", StringComparison.Ordinal))
                        controllers.Add(new CgroupControllerInfo(opt, 1, mountPoint));
            }
        }
        var mode = (anyV1, unified) switch
        {
            (true, not null) => CgroupMode.Hybrid,
            (true, null) => CgroupMode.V1,
            (false, not null) => CgroupMode.V2,
            _ => CgroupMode.None,
        };
        return (mode, controllers, unified);
    }
}
