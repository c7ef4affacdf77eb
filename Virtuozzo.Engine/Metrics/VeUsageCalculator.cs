using System.Diagnostics;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Metrics;

/// <summary>Turns two samples of one VE into rates over the interval between them. Pure: tested without a host.</summary>
public static class VeUsageCalculator
{
    /// <summary>
    /// Usage between <paramref name="before"/> and <paramref name="after"/> (same VE, same process). A counter that
    /// went down (a device that went away, a reset) gives a rate of 0 rather than a negative one. Network rates are
    /// summed over the adapters in both samples, so an adapter added meanwhile does not show its whole count as a burst.
    /// </summary>
    public static VeUsage Between(VeSample before, VeSample after)
    {
        var seconds = Math.Max(1e-6, Stopwatch.GetElapsedTime(before.Timestamp, after.Timestamp).TotalSeconds);
        double Rate(long a, long b) => b >= a ? (b - a) / seconds : 0;
        var cpuPercent = Math.Max(0, (after.CpuTime - before.CpuTime).TotalSeconds) / seconds * 100;
        var disk = after.Disk ?? IoCounters.Zero;
        var diskBefore = before.Disk ?? disk;
        var net = after.Network ?? NetCounters.Zero;
        var pairs = after.Adapters.Select(a => (Before: before.Adapters.FirstOrDefault(b => b.Adapter == a.Adapter)?.Counters ?? a.Counters, After: a.Counters)).ToList();
        double NetRate(Func<NetCounters, long> counter) => pairs.Sum(p => Rate(counter(p.Before), counter(p.After)));
        return new VeUsage
        {
            Name = after.Name,
            Id = after.Id,
            Kind = after.Kind == VeType.VirtualMachine ? "VirtualMachine" : "Container",
            Timestamp = after.At,
            Interval = TimeSpan.FromSeconds(seconds),
            CpuPercent = Math.Round(cpuPercent, 2),
            CpuPercentOfLimit = after.CpuCapacityPercent > 0 ? Math.Round(cpuPercent * 100 / after.CpuCapacityPercent, 2) : 0,
            CpuCapacityPercent = after.CpuCapacityPercent,
            MemoryResident = after.MemoryResident,
            MemorySize = after.MemorySize,
            MemoryGuarantee = after.MemoryGuarantee,
            BalloonActual = after.BalloonActual,
            GuestAvailable = after.GuestAvailable,
            DiskReadBytesPerSecond = Math.Round(Rate(diskBefore.ReadBytes, disk.ReadBytes), 1),
            DiskWriteBytesPerSecond = Math.Round(Rate(diskBefore.WriteBytes, disk.WriteBytes), 1),
            DiskReadOpsPerSecond = Math.Round(Rate(diskBefore.ReadOps, disk.ReadOps), 2),
            DiskWriteOpsPerSecond = Math.Round(Rate(diskBefore.WriteOps, disk.WriteOps), 2),
            NetworkReceiveBytesPerSecond = Math.Round(NetRate(n => n.ReceiveBytes), 1),
            NetworkTransmitBytesPerSecond = Math.Round(NetRate(n => n.TransmitBytes), 1),
            NetworkReceivePacketsPerSecond = Math.Round(NetRate(n => n.ReceivePackets), 2),
            NetworkTransmitPacketsPerSecond = Math.Round(NetRate(n => n.TransmitPackets), 2),
            CpuTime = after.CpuTime,
            DiskReadBytes = disk.ReadBytes,
            DiskWriteBytes = disk.WriteBytes,
            DiskReadOps = disk.ReadOps,
            DiskWriteOps = disk.WriteOps,
            NetworkReceiveBytes = net.ReceiveBytes,
            NetworkTransmitBytes = net.TransmitBytes,
            NetworkReceivePackets = net.ReceivePackets,
            NetworkTransmitPackets = net.TransmitPackets,
        };
    }
}
