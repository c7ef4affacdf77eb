using Virtuozzo.Engine;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Metrics;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Service;

namespace Virtuozzo.Commands.Infrastructure;

/// <summary>
/// The CPU and memory columns of Get-VzVm and Get-VzContainer: taken from the host service's last sample (one small
/// file read per command), never sampled here, so a listing stays as fast without the service as with it.
/// </summary>
internal sealed class UsageColumns(VzEngine engine)
{
    private readonly Lazy<UsageSnapshot?> snapshot = new(() => UsageSnapshot.ReadFresh(HostServicePaths.For(engine.Paths)));

    public ContainerInfo Add(ContainerInfo info) =>
        info.InitPid > 0 && snapshot.Value?.Find(info.Id, info.InitPid) is { } e ? info with { CpuPercent = e.CpuPercent } : info;

    public VmInfo Add(VmInfo info) =>
        snapshot.Value?.Find(info.Id, info.ProcessId) is { } e ? info with { CpuPercent = e.CpuPercent, MemoryResident = e.MemoryResident } : info;
}
