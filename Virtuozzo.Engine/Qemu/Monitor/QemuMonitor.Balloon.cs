using System.Text.Json.Nodes;
using Virtuozzo.Engine.Memory.Balloon;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>virtio-balloon over QMP: the target, what the guest holds, and the guest's memory stats.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>The QOM path of the balloon device the command line creates (<c>-device virtio-balloon-pci,id=balloon0</c>).</summary>
    public const string BalloonPath = "/machine/peripheral/balloon0";

    /// <summary>query-balloon: memory the guest has now (RAM less the inflated balloon), in bytes.</summary>
    public async Task<long> QueryBalloonAsync(CancellationToken cancellationToken) =>
        (await ExecuteAsync("query-balloon", null, cancellationToken))?["actual"]?.GetValue<long>()
        ?? throw new InvalidDataException("query-balloon returned no 'actual'.");

    /// <summary>balloon: asks the guest to hold <paramref name="bytes"/> (QEMU relative to RAM plus plugged DIMMs).</summary>
    public Task SetBalloonAsync(long bytes, CancellationToken cancellationToken) =>
        ExecuteAsync("balloon", new JsonObject { ["value"] = bytes }, cancellationToken);

    /// <summary>Makes the guest driver refresh its stats every <paramref name="seconds"/> (0 stops it).</summary>
    public Task SetBalloonStatsIntervalAsync(int seconds, CancellationToken cancellationToken) =>
        ExecuteAsync("qom-set", new JsonObject { ["path"] = BalloonPath, ["property"] = "guest-stats-polling-interval", ["value"] = seconds }, cancellationToken);

    /// <summary>qom-get guest-stats: null until the guest driver reported once (last-update 0).</summary>
    public async Task<GuestMemoryStats?> GetBalloonStatsAsync(CancellationToken cancellationToken)
    {
        var node = await ExecuteAsync("qom-get", new JsonObject { ["path"] = BalloonPath, ["property"] = "guest-stats" }, cancellationToken);
        return ParseGuestStats(node);
    }

    /// <summary>Reads QEMU's guest-stats object; a stat the guest does not report is -1 there and 0 here.</summary>
    internal static GuestMemoryStats? ParseGuestStats(JsonNode? node)
    {
        var updated = node?["last-update"]?.GetValue<long>() ?? 0;
        if (updated <= 0 || node?["stats"] is not JsonObject stats) return null;
        long Stat(string name) => stats[name]?.GetValue<long>() is { } v && v >= 0 ? v : 0;
        return new GuestMemoryStats
        {
            Total = Stat("stat-total-memory"),
            Available = Stat("stat-available-memory"),
            Free = Stat("stat-free-memory"),
            DiskCaches = Stat("stat-disk-caches"),
            MajorFaults = Stat("stat-major-faults"),
            SwapIn = Stat("stat-swap-in"),
            UpdatedAt = DateTimeOffset.FromUnixTimeSeconds(updated),
        };
    }
}
