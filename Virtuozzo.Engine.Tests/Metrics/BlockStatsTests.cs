using System.Text.Json.Nodes;
using Virtuozzo.Engine.Metrics;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Tests.Qemu;

namespace Virtuozzo.Engine.Tests.Metrics;

/// <summary>query-blockstats against a scripted QEMU: the guest's I/O per device, summed, the protocol layer not counted twice.</summary>
public sealed class BlockStatsTests
{
    // Trimmed from QEMU 7.2's answer for a VM with a system disk and a data disk (virtio-blk over qcow2 over file).
    private const string Reply = """
        [
          {"device": "", "qdev": "/machine/peripheral/disk0/virtio-backend", "node-name": "disk0",
           "stats": {"rd_bytes": 52428800, "wr_bytes": 104857600, "rd_operations": 400, "wr_operations": 800, "flush_operations": 3},
           "parent": {"node-name": "disk0-file", "stats": {"rd_bytes": 99999999, "wr_bytes": 99999999, "rd_operations": 9, "wr_operations": 9}}},
          {"device": "", "qdev": "/machine/peripheral/disk1/virtio-backend", "node-name": "disk1",
           "stats": {"rd_bytes": 4096, "wr_bytes": 0, "rd_operations": 1, "wr_operations": 0}}
        ]
        """;

    [Fact]
    public async Task Query_blockstats_sends_the_command_and_sums_each_device_s_own_stats()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync();
        await using var _m = monitor;

        var query = monitor.QueryBlockStatsAsync(CancellationToken.None);
        await peer.ExpectAsync("query-blockstats", null, JsonNode.Parse(Reply)!.ToJsonString());

        Assert.Equal(new IoCounters(52428800 + 4096, 104857600, 401, 800), await query);
    }

    [Fact]
    public void A_device_without_stats_or_with_odd_values_counts_nothing()
    {
        Assert.Equal(IoCounters.Zero, QemuMonitor.ParseBlockStats(JsonNode.Parse("""[{"device": "cd0"}, {"stats": {"rd_bytes": -5, "wr_bytes": "x"}}]""")));
        Assert.Equal(IoCounters.Zero, QemuMonitor.ParseBlockStats(JsonNode.Parse("{}")));
    }
}
