using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// A group's block I/O counters: cgroup v2 <c>io.stat</c>, or v1 blkio's throttle counters (kept by every v1 kernel
/// whatever the I/O scheduler; the CFQ/BFQ ones exist only with those schedulers). Reads files only. v1 blkio
/// charges writeback to the group that dirtied the page only on v2, so a container's buffered writes show late or
/// not at all on v1; direct and synchronous I/O show at once on both.
/// </summary>
public static class CgroupIoReader
{
    public static IoCounters Read(ICgroupBackend backend, string path)
    {
        if (backend.Mode == CgroupMode.V2)
            return backend.HostPath("io", path) is { } dir ? ParseIoStat(SmallFile.Read(Path.Combine(dir, "io.stat"))) : IoCounters.Zero;
        if (backend.HostPath("blkio", path) is not { } blkio) return IoCounters.Zero;
        var (rb, wb) = ParseBlkio(SmallFile.Read(Path.Combine(blkio, "blkio.throttle.io_service_bytes_recursive"))
            ?? SmallFile.Read(Path.Combine(blkio, "blkio.throttle.io_service_bytes")));
        var (ro, wo) = ParseBlkio(SmallFile.Read(Path.Combine(blkio, "blkio.throttle.io_serviced_recursive"))
            ?? SmallFile.Read(Path.Combine(blkio, "blkio.throttle.io_serviced")));
        return new IoCounters(rb, wb, ro, wo);
    }

    /// <summary>v2 io.stat: one line per device, "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"; summed over devices.</summary>
    public static IoCounters ParseIoStat(string? text)
    {
        long rb = 0, wb = 0, ro = 0, wo = 0;
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            foreach (var field in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
            {
                var eq = field.IndexOf('=');
                if (eq <= 0 || !long.TryParse(field.AsSpan(eq + 1), out var v) || v < 0) continue;
                switch (field[..eq])
                {
                    case "rbytes": rb += v; break;
                    case "wbytes": wb += v; break;
                    case "rios": ro += v; break;
                    case "wios": wo += v; break;
                }
            }
        return new IoCounters(rb, wb, ro, wo);
    }

    /// <summary>v1 blkio: "8:0 Read 4096" lines per device and operation, and a "Total" line; Read and Write summed over devices.</summary>
    public static (long Read, long Write) ParseBlkio(string? text)
    {
        long read = 0, write = 0;
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 3 || !long.TryParse(parts[2], out var v) || v < 0) continue;
            if (parts[1] == "Read") read += v;
            else if (parts[1] == "Write") write += v;
        }
        return (read, write);
    }
}
