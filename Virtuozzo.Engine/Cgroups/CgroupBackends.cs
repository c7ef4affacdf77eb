using Virtuozzo.Engine.Cgroups.V1;
using Virtuozzo.Engine.Cgroups.V2;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Cgroups;

/// <summary>Picks the backend for this host: v1 where the memory controller is on a v1 hierarchy (v1 and hybrid hosts), else v2.</summary>
public static class CgroupBackends
{
    /// <param name="mountInfoPath">The mount table to read.</param>
    /// <param name="parent">The module's parent group (VzPaths.CgroupParent); on v2 controllers are enabled from it down.</param>
    public static ICgroupBackend ForHost(string mountInfoPath = MountInfo.SelfPath, string? parent = null)
    {
        var (mode, controllers, unified) = CgroupLayout.Read(mountInfoPath);
        if (controllers.Any(c => c.Name == "memory" && c.Version == 1)) return CgroupV1Backend.FromMountInfo(mountInfoPath);
        if (mode == CgroupMode.V2 && unified is not null) return new CgroupV2Backend(unified, parent);
        throw new VzCapabilityMissingException("VzCgroupsMissing",
            $"No usable cgroup hierarchy with a memory controller was found (mode {mode}).", "cgroups", "memory cgroup")
        { RecommendedAction = "Mount cgroup v2 at /sys/fs/cgroup or the v1 memory controller." };
    }
}
