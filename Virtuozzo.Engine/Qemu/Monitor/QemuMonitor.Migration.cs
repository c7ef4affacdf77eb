using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>The migration stream (also how the state is saved to a file): migrate, query-migrate, migrate_cancel.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>Starts an outgoing migration to <paramref name="uri"/> ("exec:...", "unix:..."); it runs in the background.</summary>
    public Task MigrateAsync(string uri, CancellationToken cancellationToken) =>
        ExecuteAsync("migrate", new JsonObject { ["uri"] = uri }, cancellationToken);

    /// <summary>Where the outgoing migration stands.</summary>
    public async Task<MigrationStatus> QueryMigrateAsync(CancellationToken cancellationToken)
    {
        var st = await ExecuteAsync("query-migrate", null, cancellationToken);
        return new MigrationStatus(st?["status"]?.GetValue<string>(), st?["error-desc"]?.GetValue<string>());
    }

    public Task MigrateCancelAsync(CancellationToken cancellationToken) => ExecuteAsync("migrate_cancel", null, cancellationToken);
}
