namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// What Measure-VzVm and Measure-VzContainer return for one VE over one interval: rates per second over the
/// interval, memory now, and totals since the VE started (Hyper-V's resource metering). Flat, so it serializes
/// cleanly over remoting and Where-Object CpuPercent -gt 90 works as a watch.
/// </summary>
public sealed record VeUsage
{
    public string Name { get; init; } = "";
    public Guid Id { get; init; }
    /// <summary>Container or VirtualMachine.</summary>
    public string Kind { get; init; } = "";
    /// <summary>Running, or Stopped for the last object of a VE that stopped during the measure (its last figures).</summary>
    public string State { get; init; } = "Running";
    /// <summary>When the interval ended.</summary>
    public DateTimeOffset Timestamp { get; init; }
    public TimeSpan Interval { get; init; }

    /// <summary>CPU used over the interval in percent of one host CPU (200 = two CPUs busy).</summary>
    public double CpuPercent { get; init; }
    /// <summary>CPU used in percent of what the VE may use (its CPU limit, else its CPUs).</summary>
    public double CpuPercentOfLimit { get; init; }
    /// <summary>What <see cref="CpuPercentOfLimit"/> is relative to, in percent of one CPU.</summary>
    public int CpuCapacityPercent { get; init; }

    public long MemoryResident { get; init; }
    public long MemorySize { get; init; }
    public long MemoryGuarantee { get; init; }
    public long? BalloonActual { get; init; }
    public long? GuestAvailable { get; init; }

    public double DiskReadBytesPerSecond { get; init; }
    public double DiskWriteBytesPerSecond { get; init; }
    public double DiskReadOpsPerSecond { get; init; }
    public double DiskWriteOpsPerSecond { get; init; }
    public double NetworkReceiveBytesPerSecond { get; init; }
    public double NetworkTransmitBytesPerSecond { get; init; }
    public double NetworkReceivePacketsPerSecond { get; init; }
    public double NetworkTransmitPacketsPerSecond { get; init; }

    /// <summary>Totals since the VE started.</summary>
    public TimeSpan CpuTime { get; init; }
    public long DiskReadBytes { get; init; }
    public long DiskWriteBytes { get; init; }
    public long DiskReadOps { get; init; }
    public long DiskWriteOps { get; init; }
    public long NetworkReceiveBytes { get; init; }
    public long NetworkTransmitBytes { get; init; }
    public long NetworkReceivePackets { get; init; }
    public long NetworkTransmitPackets { get; init; }

    public override string ToString() => Name;
}
