using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>
/// The typed QMP monitor of one running VM: one method per QMP command, grouped in partial files by concern
/// (QemuMonitor.Balloon, .Memory, ...). It wraps a negotiated <see cref="QmpClient"/> for one operation.
/// </summary>
public sealed partial class QemuMonitor(QmpClient qmp)
{
    /// <summary>How long one command may take before the monitor counts as hung.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(15);

    private Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync(command, arguments, CommandTimeout, cancellationToken);
}
