using Xunit;
using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Tests.Cgroups;

/// <summary>A fact that needs root and a v1 memory hierarchy (this host); skipped, with the reason, elsewhere.</summary>
public sealed class RootCgroupV1FactAttribute : FactAttribute
{
    public RootCgroupV1FactAttribute()
    {
        if (Environment.UserName != "root") Skip = "needs root";
        else if (!CgroupLayout.Read().Controllers.Any(c => c.Name == "memory" && c.Version == 1)) Skip = "needs a cgroup v1 memory hierarchy";
    }
}

/// <summary>A fact that needs root and a writable cgroup2 mount (the hybrid unified mount here).</summary>
public sealed class RootCgroupV2MountFactAttribute : FactAttribute
{
    public RootCgroupV2MountFactAttribute()
    {
        if (Environment.UserName != "root") Skip = "needs root";
        else if (CgroupLayout.Read().UnifiedMount is null) Skip = "no cgroup2 mount";
    }
}
