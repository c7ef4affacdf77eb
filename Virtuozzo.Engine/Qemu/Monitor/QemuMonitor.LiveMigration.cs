using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>
/// Live migration to another host: capabilities and parameters of the migration stream, the deferred incoming side,
/// the NBD server a target exports its disks on, and the block mirror that copies local disks to it.
/// </summary>
public sealed partial class QemuMonitor
{
    /// <summary>Turns migration capabilities on or off ("auto-converge", "events"...).</summary>
    public Task MigrateSetCapabilitiesAsync(IReadOnlyDictionary<string, bool> capabilities, CancellationToken cancellationToken)
    {
        var list = new JsonArray();
        foreach (var (name, on) in capabilities) list.Add(new JsonObject { ["capability"] = name, ["state"] = on });
        return ExecuteAsync("migrate-set-capabilities", new JsonObject { ["capabilities"] = list }, cancellationToken);
    }

    /// <summary>Sets the downtime limit (ms) and the bandwidth cap (bytes/s) of the next migration.</summary>
    public Task MigrateSetParametersAsync(long downtimeLimitMs, long maxBandwidth, CancellationToken cancellationToken) =>
        ExecuteAsync("migrate-set-parameters", new JsonObject { ["downtime-limit"] = downtimeLimitMs, ["max-bandwidth"] = maxBandwidth }, cancellationToken);

    /// <summary>On a QEMU started with -incoming defer: listen for the migration stream on <paramref name="uri"/>.</summary>
    public Task MigrateIncomingAsync(string uri, CancellationToken cancellationToken) =>
        ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = uri }, cancellationToken);

    /// <summary>query-migrate with the RAM counters, expected and actual downtime, and what blocks a migration.</summary>
    public async Task<MigrationProgress> QueryMigrationProgressAsync(CancellationToken cancellationToken)
    {
        var st = await ExecuteAsync("query-migrate", null, cancellationToken);
        var ram = st?["ram"];
        var blocked = st?["blocked-reasons"] is JsonArray reasons ? reasons.Select(r => r?.GetValue<string>() ?? "").ToArray() : [];
        return new MigrationProgress
        {
            Status = st?["status"]?.GetValue<string>(),
            ErrorDescription = st?["error-desc"]?.GetValue<string>(),
            RamTotal = ram?["total"]?.GetValue<long>() ?? 0,
            RamTransferred = ram?["transferred"]?.GetValue<long>() ?? 0,
            RamRemaining = ram?["remaining"]?.GetValue<long>() ?? 0,
            DirtyPagesRate = ram?["dirty-pages-rate"]?.GetValue<long>() ?? 0,
            ExpectedDowntimeMs = st?["expected-downtime"]?.GetValue<long>(),
            DowntimeMs = st?["downtime"]?.GetValue<long>(),
            TotalTimeMs = st?["total-time"]?.GetValue<long>(),
            CpuThrottlePercent = st?["cpu-throttle-percentage"]?.GetValue<long>(),
            BlockedReasons = blocked,
        };
    }

    /// <summary>Starts QEMU's NBD server on a unix socket (the target of a disk mirror). Its address is the legacy (nested "data") form.</summary>
    public Task NbdServerStartAsync(string socketPath, CancellationToken cancellationToken) =>
        ExecuteAsync("nbd-server-start", new JsonObject
        {
            ["addr"] = new JsonObject { ["type"] = "unix", ["data"] = new JsonObject { ["path"] = socketPath } },
        }, cancellationToken);

    /// <summary>Exports a block node writable over the NBD server, under its node name.</summary>
    public Task BlockExportAddNbdAsync(string nodeName, CancellationToken cancellationToken) =>
        ExecuteAsync("block-export-add", new JsonObject
        {
            ["type"] = "nbd", ["id"] = "mig-" + nodeName, ["node-name"] = nodeName, ["name"] = nodeName, ["writable"] = true,
        }, cancellationToken);

    /// <summary>Stops the NBD server and drops its exports.</summary>
    public Task NbdServerStopAsync(CancellationToken cancellationToken) => ExecuteAsync("nbd-server-stop", null, cancellationToken);

    /// <summary>
    /// Mirrors <paramref name="device"/> to <paramref name="target"/> (a node added with blockdev-add), the whole
    /// disk, with guest writes reaching the target before they complete (copy-mode write-blocking), so the mirror
    /// converges however busy the guest is.
    /// </summary>
    public Task BlockdevMirrorAsync(string jobId, string device, string target, CancellationToken cancellationToken) =>
        ExecuteAsync("blockdev-mirror", new JsonObject
        {
            ["job-id"] = jobId, ["device"] = device, ["target"] = target, ["sync"] = "full", ["copy-mode"] = "write-blocking",
        }, cancellationToken);

    /// <summary>The running block jobs (mirror, stream, backup, commit).</summary>
    public async Task<IReadOnlyList<BlockJobInfo>> QueryBlockJobsAsync(CancellationToken cancellationToken)
    {
        var jobs = await ExecuteAsync("query-block-jobs", null, cancellationToken) as JsonArray ?? [];
        return [.. jobs.Select(j => new BlockJobInfo(
            j?["device"]?.GetValue<string>() ?? "", j?["type"]?.GetValue<string>() ?? "",
            j?["len"]?.GetValue<long>() ?? 0, j?["offset"]?.GetValue<long>() ?? 0, j?["ready"]?.GetValue<bool>() ?? false))];
    }

    /// <summary>Ends a block job; a ready mirror completes (flushed, no pivot) and the source keeps its disk.</summary>
    public Task BlockJobCancelAsync(string jobId, bool force, CancellationToken cancellationToken) =>
        ExecuteAsync("block-job-cancel", new JsonObject { ["device"] = jobId, ["force"] = force }, cancellationToken);
}
