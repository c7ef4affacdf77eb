using System.Management.Automation;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>The resource and identity parameters New-VzContainer and Set-VzContainer share, gathered into engine changes.</summary>
internal static class ContainerSettingsParameters
{
    public static ContainerChanges From(PSCmdlet c, long? memorySize, long? swapSize, int? memGuarantee, int? cpuCount, int? cpuUnits,
        int? cpuLimit, int? cpuLimitMhz, string? cpuMask, long? pidsLimit, string? hostname, string[]? nameserver, string[]? ipAddress,
        NetworkMode? networkMode, string? bridge, string? gateway, bool? onBoot, string? description, long? diskSize, ContainerLayout? layout = null) => new()
    {
        MemorySize = memorySize, SwapSize = swapSize, MemGuaranteePercent = memGuarantee, CpuCount = cpuCount, CpuUnits = cpuUnits,
        CpuLimit = cpuLimit, CpuLimitMhz = cpuLimitMhz, CpuMask = cpuMask, PidsLimit = pidsLimit, Hostname = hostname,
        Nameserver = nameserver, IpAddress = ipAddress, NetworkMode = networkMode, Bridge = bridge, Gateway = gateway,
        OnBoot = onBoot, Description = description, DiskSize = diskSize, Layout = layout,
    };
}
