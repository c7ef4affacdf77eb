using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Tests.CgroupV2;

/// <summary>
/// A fact for the pure cgroup v2 test host (tools/testguest: booted with cgroup_no_v1=all, every controller enabled).
/// The host test run filters these out (Category!=CgroupV2) and runs them inside that guest; anywhere else that is
/// not root on a pure v2 host they are skipped with the reason.
/// </summary>
public sealed class CgroupV2HostFactAttribute : FactAttribute
{
    public CgroupV2HostFactAttribute()
    {
        if (Environment.UserName != "root") Skip = "needs root";
        else if (CgroupLayout.Read().Mode != CgroupMode.V2)
            Skip = "needs a pure cgroup v2 host (run it in the v2 test host: ./build.sh Test -Tag CgroupV2)";
    }
}
