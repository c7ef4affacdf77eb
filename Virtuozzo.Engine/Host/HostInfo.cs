namespace Virtuozzo.Engine.Host;

/// <summary>What <c>Get-VzHost</c> shows: live totals read on each call, plus the cached capability probe.</summary>
public sealed record HostInfo
{
    public string ComputerName { get; init; } = "";
    public string Kernel { get; init; } = "";
    public int CpuCount { get; init; }
    public string CpuModel { get; init; } = "";
    /// <summary>Nominal CPU frequency, used to turn MHz CPU limits into percentages.</summary>
    public double CpuMhz { get; init; }
    public long MemoryTotal { get; init; }
    public long MemoryAvailable { get; init; }
    public CgroupMode CgroupMode { get; init; }
    public IReadOnlyList<CgroupControllerInfo> CgroupControllers { get; init; } = [];
    /// <summary>The group every VE's cgroup goes under (VZ_CGROUP_PARENT, "vz" by default).</summary>
    public string CgroupParent { get; init; } = "";
    /// <summary>On cgroup v2, the controllers the parent group is given (a VE start needs cpu, cpuset, memory and pids); null elsewhere.</summary>
    public IReadOnlyList<string>? CgroupDelegatedControllers { get; init; }
    /// <summary>Whether the kernel accounts swap per cgroup; without it a container's -SwapSize is stored but not enforced.</summary>
    public bool SwapAccounting { get; init; }
    public Accelerator Accelerator { get; init; }
    public bool KvmUsable { get; init; }
    public string? KvmReason { get; init; }
    public bool TcgAvailable { get; init; }
    public string? QemuVersion { get; init; }
    public string? QemuImgVersion { get; init; }
    public IReadOnlyList<OciRuntimeInfo> ContainerRuntimes { get; init; } = [];
    /// <summary>The runtime containers start with: the forced one, else the first that can run here.</summary>
    public string? ContainerRuntime { get; init; }
    public string? CriuVersion { get; init; }
    public bool CriuUsable { get; init; }
    public string? CriuReason { get; init; }
    public bool KsmAvailable { get; init; }
    public string DataRoot { get; init; } = "";
    public long DataRootFreeBytes { get; init; }
    /// <summary>The host service's autoballoon policy (Set-VzHost -AutoBalloon and the Balloon* settings).</summary>
    public bool AutoBalloon { get; init; }
    public int BalloonBufferPercent { get; init; }
    public int BalloonIntervalSeconds { get; init; }
    public int BalloonLowAvailablePercent { get; init; }
    /// <summary>The host service's Prometheus endpoint (Set-VzHost -MetricsEnabled, -MetricsAddress, -AllowRemoteMetrics).</summary>
    public bool MetricsEnabled { get; init; }
    public string MetricsAddress { get; init; } = "";
    public bool AllowRemoteMetrics { get; init; }
    public DateTimeOffset ProbedAt { get; init; }
    public TimeSpan ProbeAge { get; init; }
}
