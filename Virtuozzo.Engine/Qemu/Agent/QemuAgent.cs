using System.Text.Json.Nodes;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>
/// The typed guest agent of one running VM: one method per QGA command the engine uses, partial files by concern
/// (QemuAgent.Exec, .Users, .Info, .Network, .Power). A session is already synced when opened and holds the
/// agent channel for one operation.
/// </summary>
public sealed partial class QemuAgent : IAsyncDisposable
{
    private readonly QgaClient qga;
    private readonly IDisposable? gate;
    private readonly string name;

    /// <summary>Wraps a client (tests hand in one over an in-memory stream); <paramref name="name"/> labels results.</summary>
    public QemuAgent(QgaClient qga, string name) : this(qga, null, name) { }

    private QemuAgent(QgaClient qga, IDisposable? gate, string name)
    {
        this.qga = qga;
        this.gate = gate;
        this.name = name;
    }

    /// <summary>
    /// Opens and syncs the VM's agent channel; the whole call, waiting for another command's session included, is
    /// bounded by <paramref name="timeout"/>. A flock in the run folder serializes sessions across processes.
    /// </summary>
    public static async Task<QemuAgent> OpenAsync(VmRuntimePaths paths, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        FileLock gate;
        try { gate = FileLock.Acquire(paths.QgaLock, timeout, name, cancellationToken); }
        catch (VzTimeoutException)
        {
            throw new VzTimeoutException("VzGuestAgentBusy", $"Another command is using the guest agent of '{name}' and did not finish within {timeout.TotalSeconds:0.#} s.", name, timeout);
        }
        QgaClient? qga = null;
        try
        {
            qga = await QgaClient.ConnectAsync(paths.QgaSocket, name, cancellationToken);
            var left = timeout - (DateTime.UtcNow - started);
            await qga.SyncAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1), cancellationToken);
            return new QemuAgent(qga, gate, name);
        }
        catch
        {
            if (qga is not null) await qga.DisposeAsync();
            gate.Dispose();
            throw;
        }
    }

    private Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments, TimeSpan timeout, CancellationToken cancellationToken, bool expectReply = true) =>
        qga.ExecuteAsync(command, arguments, timeout, cancellationToken, expectReply);

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public async ValueTask DisposeAsync()
    {
        await qga.DisposeAsync();
        gate?.Dispose();
    }
}
