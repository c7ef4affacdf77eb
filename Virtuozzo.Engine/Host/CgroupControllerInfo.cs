namespace Virtuozzo.Engine.Host;

/// <summary>Where one cgroup controller is mounted, and in which version.</summary>
public sealed record CgroupControllerInfo(string Name, int Version, string MountPath)
{
    /// <summary>"memory v1 /sys/fs/cgroup/memory": short, for Format-List * and string expansion (not a record dump).</summary>
    public override string ToString() => $"{Name} v{Version} {MountPath}";
}
