using System.Text.Json.Nodes;
using Virtuozzo.Engine.Metrics;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>Usage counters of the VM's block devices: query-blockstats.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>query-blockstats: bytes and operations read and written by the guest since QEMU started, summed over its disks.</summary>
    public async Task<IoCounters> QueryBlockStatsAsync(CancellationToken cancellationToken) =>
        ParseBlockStats(await ExecuteAsync("query-blockstats", null, cancellationToken));

    /// <summary>
    /// Sums the top-level "stats" of each device (what the guest asked for); the "parent" stats of the protocol node
    /// under it count the same I/O again at the file level and are left out.
    /// </summary>
    internal static IoCounters ParseBlockStats(JsonNode? node)
    {
        var total = IoCounters.Zero;
        if (node is not JsonArray devices) return total;
        foreach (var device in devices)
        {
            if (device?["stats"] is not JsonObject s) continue;
            static long V(JsonObject s, string name) => s[name] is JsonValue v && v.TryGetValue<long>(out var n) && n >= 0 ? n : 0;
            total = total.Add(new IoCounters(V(s, "rd_bytes"), V(s, "wr_bytes"), V(s, "rd_operations"), V(s, "wr_operations")));
        }
        return total;
    }
}
