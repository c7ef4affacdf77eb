using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Monitor;

namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>
/// A connection to the QEMU guest agent over its virtio-serial channel. The channel keeps bytes across clients
/// (a reply to a previous, abandoned client may still be in flight), so every session starts with
/// <c>guest-sync-delimited</c>: the agent answers with 0xFF and the id we sent, and everything before that is
/// dropped. Replies carry no ids, so a call that timed out poisons the session: the client refuses further calls.
/// </summary>
public sealed class QgaClient : IAsyncDisposable
{
    private const int MaxMessageBytes = 48 * 1024 * 1024; // guest-exec-status can carry 2 x 16 MiB in base64
    private static readonly TimeSpan MinRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(1);
    private readonly Stream stream;
    private readonly JsonLineReader reader;
    private readonly object target;
    private readonly TimeSpan firstRetry;
    private bool synced, poisoned;

    private QgaClient(Stream stream, object target, TimeSpan? firstRetry = null)
    {
        this.stream = stream;
        this.target = target;
        this.firstRetry = firstRetry ?? MinRetry;
        reader = new JsonLineReader(stream, MaxMessageBytes);
    }

    public static async Task<QgaClient> ConnectAsync(string socketPath, object target, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(TimeSpan.FromSeconds(5));
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new VzInvalidStateException("VzVmNotRunning", $"Cannot reach the guest agent channel of '{target}': {ex.Message}", target)
            { RecommendedAction = "Start the VM with Start-VzVm -Wait." };
        }
        return new QgaClient(new NetworkStream(socket, ownsSocket: true), target);
    }

    /// <summary>Wraps a connected stream (tests hand in an in-memory pair).</summary>
    public static QgaClient Open(Stream stream, object target) => new(stream, target);

    /// <summary>Like <see cref="Open(Stream, object)"/> with another first retry interval (tests pin down when the client asks again).</summary>
    internal static QgaClient Open(Stream stream, object target, TimeSpan firstRetry) => new(stream, target, firstRetry);

    /// <summary>
    /// The handshake: sends guest-sync-delimited with a fresh id every 0.25-1 s until the agent echoes the latest id,
    /// and once more at once when it first answers an older one (it just came up). Only the latest id is accepted,
    /// so once it matches no older reply is still in flight.
    /// </summary>
    public async Task SyncAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var retry = firstRetry;
        long latest = 0;
        var answered = false;
        Task<long?>? read = null;
        try
        {
            while (true)
            {
                latest = Random.Shared.NextInt64(1, long.MaxValue / 2);
                await SendAsync(new JsonObject { ["execute"] = "guest-sync-delimited", ["arguments"] = new JsonObject { ["id"] = latest } }, sentinel: true, deadline.Token);
                var attemptEnd = DateTime.UtcNow + retry;
                while (DateTime.UtcNow < attemptEnd)
                {
                    read ??= ReadSyncReplyAsync(deadline.Token);
                    var done = await Task.WhenAny(read, Task.Delay(attemptEnd - DateTime.UtcNow, deadline.Token));
                    deadline.Token.ThrowIfCancellationRequested();
                    if (done != read) break;
                    var got = await read;
                    read = null;
                    if (got is null) throw new VzInvalidStateException("VzVmNotRunning", $"The guest agent channel of '{target}' closed (QEMU exited).", target);
                    if (got == latest) { synced = true; return; }
                    // An earlier id answered: the agent just came up and works through what queued while it was
                    // down (QEMU holds a closed port's input). Ask once more now instead of when this attempt's
                    // wait runs out (up to a second); only once, so the queue drains and the newest id wins.
                    if (!answered) { answered = true; retry = firstRetry; break; }
                }
                if (!answered) retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, MaxRetry.Ticks));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            poisoned = true;
            throw NotResponding(timeout);
        }
    }

    /// <summary>
    /// Runs an agent command after a successful sync. <paramref name="expectReply"/> is false for commands after
    /// which the agent goes away (guest-shutdown).
    /// </summary>
    public async Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments, TimeSpan timeout, CancellationToken cancellationToken, bool expectReply = true)
    {
        if (poisoned) throw new InvalidOperationException("This agent session timed out earlier; open a new one.");
        if (!synced) await SyncAsync(timeout, cancellationToken);
        var message = new JsonObject { ["execute"] = command };
        if (arguments is not null) message["arguments"] = arguments.DeepClone();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await SendAsync(message, sentinel: false, cts.Token);
            if (!expectReply) return null;
            while (true)
            {
                var line = await reader.ReadLineAsync(cts.Token);
                if (line is null) throw new VzInvalidStateException("VzVmNotRunning", $"The guest agent channel of '{target}' closed during '{command}'.", target);
                var reply = QmpClient.Parse(line.TrimStart('\xFF'));
                if (reply is null) continue;
                if (reply["error"] is JsonObject error)
                    throw new QgaException(command, error["class"]?.GetValue<string>() ?? "GenericError", error["desc"]?.GetValue<string>() ?? "(no description)", target);
                if (reply.ContainsKey("return")) return reply["return"];
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            poisoned = true;
            throw NotResponding(timeout, command);
        }
    }

    private async Task<long?> ReadSyncReplyAsync(CancellationToken cancellationToken)
    {
        // After 0xFF the next line is the sync reply; anything else (stale replies, noise) is skipped.
        while (true)
        {
            if (!await reader.SkipPastAsync(0xFF, cancellationToken)) return null;
            var line = await reader.ReadLineAsync(cancellationToken);
            if (line is null) return null;
            var reply = QmpClient.Parse(line);
            if (reply?["return"] is JsonValue v && v.TryGetValue<long>(out var id)) return id;
        }
    }

    private async Task SendAsync(JsonObject message, bool sentinel, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(message.ToJsonString() + "\n");
        try
        {
            if (sentinel) await stream.WriteAsync(new byte[] { 0xFF }, cancellationToken);
            await stream.WriteAsync(bytes, cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            throw new VzInvalidStateException("VzVmNotRunning", $"The guest agent channel of '{target}' closed: {ex.Message}", target);
        }
        finally
        {
            // The password travels in this buffer; do not leave it in memory longer than needed.
            Array.Clear(bytes);
        }
    }

    private VzTimeoutException NotResponding(TimeSpan timeout, string? command = null) =>
        new("VzGuestAgentNotResponding",
            command is null
                ? $"The guest agent of '{target}' is not responding (no answer to guest-sync within {timeout.TotalSeconds:0.#} s)."
                : $"The guest agent of '{target}' did not answer '{command}' within {timeout.TotalSeconds:0.#} s.", target, timeout)
        { RecommendedAction = "Make sure qemu-guest-agent runs in the guest (the VM needs the org.qemu.guest_agent.0 channel, which Virtuozzo adds), or raise -Timeout." };

    public async ValueTask DisposeAsync() => await stream.DisposeAsync();
}
