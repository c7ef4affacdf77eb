using Virtuozzo.Engine.Memory;
using Virtuozzo.Engine.Store;
using Virtuozzo.Engine.Network;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// Settings to give a new container or change on an existing one. Null means "not given": New-VzContainer uses the
/// default, Set-VzContainer leaves the current value alone.
/// </summary>
public sealed record ContainerChanges
{
    public long? MemorySize { get; init; }
    public long? SwapSize { get; init; }
    public MemGuarantee? MemGuarantee { get; init; }
    public int? CpuCount { get; init; }
    public int? CpuUnits { get; init; }
    /// <summary>Percent of one CPU; 0 removes the limit.</summary>
    public int? CpuLimit { get; init; }
    /// <summary>A limit in MHz, turned into a percentage with the host's CPU frequency.</summary>
    public int? CpuLimitMhz { get; init; }
    /// <summary>"0,2-3" or "all".</summary>
    public string? CpuMask { get; init; }
    /// <summary>0 removes the limit.</summary>
    public long? PidsLimit { get; init; }
    public string? Hostname { get; init; }
    public string[]? Nameserver { get; init; }
    public string[]? IpAddress { get; init; }
    public NetworkMode? NetworkMode { get; init; }
    public string? Bridge { get; init; }
    public string? Gateway { get; init; }
    public bool? OnBoot { get; init; }
    public string? Description { get; init; }
    public ContainerLayout? Layout { get; init; }
    public long? DiskSize { get; init; }
    /// <summary>Default, Unconfined, or the absolute path of an OCI seccomp profile JSON file.</summary>
    public string? SeccompProfile { get; init; }

    public bool IsEmpty => this == new ContainerChanges();
}
