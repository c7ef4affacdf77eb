using Virtuozzo.Engine.Qemu.Monitor;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>The live-migration monitor calls against a scripted QEMU: documented arguments out, typed answers in.</summary>
public sealed class QemuMonitorLiveMigrationTests
{
    private static readonly string Qemu722 = ScriptedQemu.Greeting("7.2.22");

    [Fact]
    public async Task The_nbd_server_takes_the_legacy_address_and_exports_are_writable_under_the_node_name()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync(Qemu722);
        await using var _ = monitor;
        var start = monitor.NbdServerStartAsync("/run/vz/x/nbd.sock", CancellationToken.None);
        await peer.ExpectAsync("nbd-server-start", "{\"addr\": {\"type\": \"unix\", \"data\": {\"path\": \"/run/vz/x/nbd.sock\"}}}");
        await start;
        var export = monitor.BlockExportAddNbdAsync("disk0", CancellationToken.None);
        await peer.ExpectAsync("block-export-add", "{\"type\": \"nbd\", \"id\": \"mig-disk0\", \"node-name\": \"disk0\", \"name\": \"disk0\", \"writable\": true}");
        await export;
    }

    [Fact]
    public async Task The_mirror_is_a_full_write_blocking_blockdev_mirror()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync(Qemu722);
        await using var _ = monitor;
        var call = monitor.BlockdevMirrorAsync("mig-disk0", "disk0", "mig-disk0", CancellationToken.None);
        await peer.ExpectAsync("blockdev-mirror", "{\"job-id\": \"mig-disk0\", \"device\": \"disk0\", \"target\": \"mig-disk0\", \"sync\": \"full\", \"copy-mode\": \"write-blocking\"}");
        await call;
    }

    [Fact]
    public async Task Capabilities_and_parameters_are_sent_as_QEMU_documents_them()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync(Qemu722);
        await using var _ = monitor;
        var caps = monitor.MigrateSetCapabilitiesAsync(new Dictionary<string, bool> { ["auto-converge"] = true }, CancellationToken.None);
        await peer.ExpectAsync("migrate-set-capabilities", "{\"capabilities\": [{\"capability\": \"auto-converge\", \"state\": true}]}");
        await caps;
        var pars = monitor.MigrateSetParametersAsync(300, 4L << 30, CancellationToken.None);
        await peer.ExpectAsync("migrate-set-parameters", "{\"downtime-limit\": 300, \"max-bandwidth\": 4294967296}");
        await pars;
        var incoming = monitor.MigrateIncomingAsync("unix:/run/vz/x/migrate.sock", CancellationToken.None);
        await peer.ExpectAsync("migrate-incoming", "{\"uri\": \"unix:/run/vz/x/migrate.sock\"}");
        await incoming;
    }

    [Fact]
    public async Task Query_migrate_reads_the_RAM_counters_downtime_and_blocked_reasons()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync(Qemu722);
        await using var _ = monitor;
        var q = monitor.QueryMigrationProgressAsync(CancellationToken.None);
        await peer.ExpectAsync("query-migrate", null,
            "{\"status\": \"completed\", \"downtime\": 87, \"total-time\": 4100, \"ram\": {\"total\": 270000000, \"transferred\": 140000000, \"remaining\": 0, \"dirty-pages-rate\": 12}, \"blocked-reasons\": [\"virtio-fs\"]}");
        var p = await q;
        Assert.Equal("completed", p.Status);
        Assert.Equal(87, p.DowntimeMs);
        Assert.Equal(140000000, p.RamTransferred);
        Assert.Equal(["virtio-fs"], p.BlockedReasons);
    }

    [Fact]
    public async Task Block_jobs_are_listed_and_a_ready_mirror_is_cancelled_without_force()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync(Qemu722);
        await using var _ = monitor;
        var q = monitor.QueryBlockJobsAsync(CancellationToken.None);
        await peer.ExpectAsync("query-block-jobs", null, "[{\"device\": \"mig-disk0\", \"type\": \"mirror\", \"len\": 100, \"offset\": 100, \"ready\": true}]");
        var jobs = await q;
        Assert.Equal(new BlockJobInfo("mig-disk0", "mirror", 100, 100, true), Assert.Single(jobs));
        var c = monitor.BlockJobCancelAsync("mig-disk0", false, CancellationToken.None);
        await peer.ExpectAsync("block-job-cancel", "{\"device\": \"mig-disk0\", \"force\": false}");
        await c;
    }
}
