using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>
/// A QMP connection: reads the greeting, negotiates capabilities, sends commands with ids and matches replies by
/// id, and keeps the events that arrive. QEMU serves one client per socket (a second connect gets no greeting), so
/// callers open a client for one operation and dispose it; the VM's monitor lock serializes them across processes.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    private const int MaxMessageBytes = 8 * 1024 * 1024;
    private const int MaxBufferedEvents = 1000;
    private readonly Stream stream;
    private readonly JsonLineReader reader;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonObject>> pending = new();
    private readonly List<JsonObject> events = [];
    private readonly SemaphoreSlim writeGate = new(1, 1);
    private readonly CancellationTokenSource lifetime = new();
    private readonly TaskCompletionSource closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object target;
    private Task? readLoop;
    private long nextId;
    private TaskCompletionSource eventArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private QmpClient(Stream stream, object target)
    {
        this.stream = stream;
        this.target = target;
        reader = new JsonLineReader(stream, MaxMessageBytes);
    }

    /// <summary>The greeting's QEMU version ("7.2.19").</summary>
    public string QemuVersion { get; private set; } = "";

    /// <summary>Completes when QEMU closes the connection: the process exited (or is about to).</summary>
    public Task Closed => closed.Task;

    /// <summary>Connects to a QMP unix socket and negotiates; fails with a timeout error if no greeting comes.</summary>
    public static async Task<QmpClient> ConnectAsync(string socketPath, TimeSpan timeout, object target, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new VzInvalidStateException("VzVmMonitorUnavailable", $"Cannot connect to the QEMU monitor of '{target}' ({socketPath}): {ex.Message}", target);
        }
        return await OpenAsync(new NetworkStream(socket, ownsSocket: true), timeout, target, cancellationToken);
    }

    /// <summary>Runs the handshake on an already connected stream (tests hand in an in-memory pair).</summary>
    public static async Task<QmpClient> OpenAsync(Stream stream, TimeSpan timeout, object target, CancellationToken cancellationToken)
    {
        var client = new QmpClient(stream, target);
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            string? line;
            try { line = await client.reader.ReadLineAsync(cts.Token); }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new VzTimeoutException("VzVmMonitorTimeout",
                    $"The QEMU monitor of '{target}' sent no greeting within {timeout.TotalSeconds:0.#} s (another client may hold it).", target, timeout)
                { RecommendedAction = "QEMU serves one monitor client at a time; wait for the other Virtuozzo command to finish and retry." };
            }
            if (line is null) throw new VzInvalidStateException("VzVmMonitorClosed", $"The QEMU monitor of '{target}' closed before greeting.", target);
            var greeting = Parse(line) ?? throw new InvalidDataException("The QMP greeting is not JSON.");
            if (greeting["QMP"] is not JsonObject qmp) throw new InvalidDataException($"Expected a QMP greeting, got: {Truncate(line)}");
            var v = qmp["version"]?["qemu"];
            if (v is not null) client.QemuVersion = $"{v["major"]}.{v["minor"]}.{v["micro"]}";
            client.readLoop = Task.Run(client.ReadLoopAsync);
            await client.ExecuteAsync("qmp_capabilities", null, timeout, cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends a command and returns its "return" value; QEMU's error becomes a <see cref="QmpException"/>.</summary>
    public async Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = "vz-" + Interlocked.Increment(ref nextId);
        var tcs = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = tcs;
        try
        {
            var message = new JsonObject { ["execute"] = command, ["id"] = id };
            if (arguments is not null) message["arguments"] = arguments.DeepClone();
            await WriteAsync(message.ToJsonString() + "\n", cancellationToken);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.Token);
            cts.CancelAfter(timeout);
            // A monitor that closes (QEMU exited or crashed mid-command) fails the command at once rather than at
            // its timeout: the read loop sets a reply before it marks the monitor closed, so a reply that made it
            // wins.
            try { await Task.WhenAny(tcs.Task, closed.Task).WaitAsync(cts.Token); }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (closed.Task.IsCompleted && !tcs.Task.IsCompleted) throw ClosedError(command);
                throw new VzTimeoutException("VzVmMonitorTimeout", $"QEMU did not answer '{command}' for '{target}' within {timeout.TotalSeconds:0.#} s.", target, timeout);
            }
            if (!tcs.Task.IsCompleted) throw ClosedError(command);
            var reply = await tcs.Task;
            if (reply["error"] is JsonObject error)
                throw new QmpException(command, error["class"]?.GetValue<string>() ?? "GenericError", error["desc"]?.GetValue<string>() ?? "(no description)", target);
            return reply["return"];
        }
        finally { pending.TryRemove(id, out _); }
    }

    /// <summary>
    /// Waits for an event that <paramref name="match"/> accepts, including one that arrived before the call
    /// (DEVICE_DELETED can beat the device_del reply). The matched event is consumed.
    /// </summary>
    public async Task<JsonObject> WaitForEventAsync(Func<JsonObject, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        while (true)
        {
            Task signal;
            lock (events)
            {
                var hit = events.FindIndex(e => match(e));
                if (hit >= 0) { var e = events[hit]; events.RemoveAt(hit); return e; }
                signal = eventArrived.Task;
            }
            try { await Task.WhenAny(signal, closed.Task).WaitAsync(cts.Token); }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new VzTimeoutException("VzVmEventTimeout", $"QEMU did not report the expected event for '{target}' within {timeout.TotalSeconds:0.#} s.", target, timeout);
            }
            if (closed.Task.IsCompleted && !signal.IsCompleted) throw ClosedError("(waiting for an event)");
        }
    }

    /// <summary>Events received so far and not consumed (copies).</summary>
    public IReadOnlyList<JsonObject> BufferedEvents { get { lock (events) return events.ToList(); } }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (!lifetime.IsCancellationRequested)
            {
                var line = await reader.ReadLineAsync(lifetime.Token);
                if (line is null) break;
                if (line.Length == 0) continue;
                var message = Parse(line);
                if (message is null) continue; // not JSON: ignore rather than trust it
                if (message["event"] is not null)
                {
                    lock (events)
                    {
                        if (events.Count >= MaxBufferedEvents) events.RemoveAt(0);
                        events.Add(message);
                        var old = eventArrived;
                        eventArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        old.TrySetResult();
                    }
                }
                else if (message["id"]?.GetValueKind() == System.Text.Json.JsonValueKind.String && pending.TryGetValue(message["id"]!.GetValue<string>(), out var tcs))
                {
                    tcs.TrySetResult(message);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidDataException or ObjectDisposedException or SocketException) { }
        finally { closed.TrySetResult(); }
    }

    private async Task WriteAsync(string text, CancellationToken cancellationToken)
    {
        await writeGate.WaitAsync(cancellationToken);
        try
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }
        catch (IOException) { throw ClosedError("(write)"); }
        finally { writeGate.Release(); }
    }

    private VzInvalidStateException ClosedError(string command) =>
        new("VzVmMonitorClosed", $"The QEMU monitor of '{target}' closed during '{command}' (QEMU exited).", target);

    internal static JsonObject? Parse(string line)
    {
        try { return JsonNode.Parse(line, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 64 }) as JsonObject; }
        catch (System.Text.Json.JsonException) { return null; }
    }

    private static string Truncate(string s) => s.Length > 200 ? s[..200] + "..." : s;

    public async ValueTask DisposeAsync()
    {
        lifetime.Cancel();
        await stream.DisposeAsync();
        if (readLoop is not null) { try { await readLoop; } catch { /* closing */ } }
        lifetime.Dispose();
    }
}
