namespace Virtuozzo.Engine.Host;

/// <summary>Reads the host's cgroup mounts from mountinfo: which controllers, where, v1 or v2.</summary>
public static class CgroupLayout
{
    public static (CgroupMode Mode, IReadOnlyList<CgroupControllerInfo> Controllers, string? UnifiedMount) Read(string mountInfoPath = "/proc/self/mountinfo")
        => Parse(File.ReadAllLines(mountInfoPath), path => File.Exists(path) ? File.ReadAllText(path) : null);

    public static (CgroupMode Mode, IReadOnlyList<CgroupControllerInfo> Controllers, string? UnifiedMount) Parse(
        IEnumerable<string> mountInfoLines, Func<string, string?> readFile)
    {
        var controllers = new List<CgroupControllerInfo>();
        string? unified = null;
        var anyV1 = false;
        foreach (var line in mountInfoLines)
        {
            // "<id> <parent> <maj:min> <root> <mountpoint> <opts> [optional...] - <fstype> <source> <superopts>"
            var sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0) continue;
            var left = line[..sep].Split(' ');
            var right = line[(sep + 3)..].Split(' ');
            if (left.Length < 5 || right.Length < 3) continue;
            var mountPoint = left[4];
            if (right[0] == "cgroup2")
            {
                unified ??= mountPoint;
                var list = readFile(Path.Combine(mountPoint, "cgroup.controllers"));
                foreach (var c in (list ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    controllers.Add(new CgroupControllerInfo(c, 2, mountPoint));
            }
            else if (right[0] == "cgroup")
            {
                anyV1 = true;
                foreach (var opt in right[2].Split(','))
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
