using System.Text.Json.Nodes;
using Virtuozzo.Engine.Qemu.Monitor;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>The snapshot commands against a scripted fake QEMU and agent: exact QMP/QGA shapes and reply parsing.</summary>
public sealed class QemuMonitorSnapshotTests
{
    private static readonly string Qemu722 = ScriptedQemu.Greeting("7.2.22");

    [Fact]
    public async Task All_disks_are_snapshotted_in_one_transaction()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync(Qemu722);
        await using var _m = monitor;
        var call = monitor.SnapshotInternalTransactionAsync(["disk0", "disk1"], "s1", CancellationToken.None);
        var req = await peer.AnswerAsync("transaction");
        await call;
        var expected = JsonNode.Parse("""
            {"actions": [
              {"type": "blockdev-snapshot-internal-sync", "data": {"device": "disk0", "name": "s1"}},
              {"type": "blockdev-snapshot-internal-sync", "data": {"device": "disk1", "name": "s1"}}]}
            """);
        Assert.True(JsonNode.DeepEquals(expected, req["arguments"]), req["arguments"]!.ToJsonString());
    }

    [Fact]
    public async Task A_live_delete_names_the_node_and_the_tag()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync(Qemu722);
        await using var _m = monitor;
        var call = monitor.SnapshotDeleteInternalAsync("disk1", "s1", CancellationToken.None);
        var req = await peer.AnswerAsync("blockdev-snapshot-delete-internal-sync", "{\"id\": \"3\", \"name\": \"s1\"}");
        await call;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("{\"device\": \"disk1\", \"name\": \"s1\"}"), req["arguments"]));
    }

    [Fact]
    public async Task Snapshot_save_puts_the_RAM_state_in_the_first_disk_and_the_job_is_followed_to_its_error()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync(Qemu722);
        await using var _m = monitor;
        var save = monitor.SnapshotSaveAsync("job1", "warm", "disk0", ["disk0", "disk1"], CancellationToken.None);
        var req = await peer.AnswerAsync("snapshot-save");
        await save;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("{\"job-id\": \"job1\", \"tag\": \"warm\", \"vmstate\": \"disk0\", \"devices\": [\"disk0\", \"disk1\"]}"), req["arguments"]));
        var query = monitor.QueryJobAsync("job1", CancellationToken.None);
        // QMP replies are one line each.
        await peer.AnswerAsync("query-jobs", "[{\"id\": \"other\", \"type\": \"backup\", \"status\": \"running\", \"current-progress\": 1, \"total-progress\": 2}, " +
            "{\"id\": \"job1\", \"type\": \"snapshot-save\", \"status\": \"concluded\", \"current-progress\": 1, \"total-progress\": 1, \"error\": \"No space left on device\"}]");
        var job = await query;
        Assert.Equal(new JobStatus("concluded", "No space left on device", 1, 1), job);
        var missing = monitor.QueryJobAsync("gone", CancellationToken.None);
        await peer.AnswerAsync("query-jobs", "[]");
        Assert.Null(await missing);
    }

    [Fact]
    public async Task A_full_backup_adds_the_persistent_bitmap_in_the_same_transaction_and_an_incremental_one_reads_it()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync(Qemu722);
        await using var _m = monitor;
        var call = monitor.BackupTransactionAsync([new("disk0", "vzbk-disk0", "j0", "vz-backup", false), new("disk1", "vzbk-disk1", "j1", "vz-backup", true)], CancellationToken.None);
        var req = await peer.AnswerAsync("transaction");
        await call;
        var expected = JsonNode.Parse("""
            {"actions": [
              {"type": "block-dirty-bitmap-add", "data": {"node": "disk0", "name": "vz-backup", "persistent": true}},
              {"type": "blockdev-backup", "data": {"job-id": "j0", "device": "disk0", "target": "vzbk-disk0", "sync": "full", "auto-dismiss": false}},
              {"type": "blockdev-backup", "data": {"job-id": "j1", "device": "disk1", "target": "vzbk-disk1", "sync": "incremental", "auto-dismiss": false, "bitmap": "vz-backup"}}]}
            """);
        Assert.True(JsonNode.DeepEquals(expected, req["arguments"]), req["arguments"]!.ToJsonString());
    }

    [Fact]
    public async Task An_inconsistent_bitmap_is_read_from_the_named_node()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync(Qemu722);
        await using var _m = monitor;
        var call = monitor.QueryBitmapsAsync("disk0", CancellationToken.None);
        var req = await peer.AnswerAsync("query-named-block-nodes", "[{\"node-name\": \"disk0-file\"}, {\"node-name\": \"disk0\", \"dirty-bitmaps\": [{\"name\": \"vz-backup\", \"recording\": true, \"persistent\": true, \"busy\": false, \"granularity\": 65536, \"count\": 131072, \"inconsistent\": true}]}]");
        var bitmaps = await call;
        Assert.True(req["arguments"]!["flat"]!.GetValue<bool>());
        Assert.Equal(new DirtyBitmap("vz-backup", true, true, 131072), Assert.Single(bitmaps));
    }

    [Fact]
    public async Task The_agent_freezes_and_thaws_and_reports_counts()
    {
        var (agent, peer) = await ScriptedQemu.OpenAgentAsync();
        await using var _a = agent;
        var t = TimeSpan.FromSeconds(5);
        var freeze = agent.FsFreezeAsync(t, CancellationToken.None);
        await peer.AnswerAgentAsync("guest-fsfreeze-freeze", "2");
        Assert.Equal(2, await freeze);
        var thaw = agent.FsThawAsync(t, CancellationToken.None);
        await peer.AnswerAgentAsync("guest-fsfreeze-thaw", "2");
        Assert.Equal(2, await thaw);
    }
}
