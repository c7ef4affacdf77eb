namespace Virtuozzo.Engine.Host;

/// <summary>How the host mounts cgroups.</summary>
public enum CgroupMode
{
    /// <summary>No cgroup filesystem found.</summary>
    None,
    /// <summary>Only v1 hierarchies.</summary>
    V1,
    /// <summary>v1 hierarchies plus a cgroup2 mount (usually /sys/fs/cgroup/unified).</summary>
    Hybrid,
    /// <summary>The unified hierarchy only.</summary>
    V2,
}
