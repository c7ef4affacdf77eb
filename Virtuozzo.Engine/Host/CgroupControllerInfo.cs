namespace Virtuozzo.Engine.Host;

/// <summary>Where one cgroup controller is mounted, and in which version.</summary>
public sealed record CgroupControllerInfo(string Name, int Version, string MountPath);
