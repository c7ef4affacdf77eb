using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// A minimal HTTP/1.1 server for GET /metrics: one request per connection (Connection: close), headers bounded to
/// 8 KiB and 10 s, a few connections at a time. Enough for Prometheus and curl without a web framework in the
/// service. Rendering is the caller's render function, called per scrape.
/// </summary>
public sealed class MetricsEndpoint : IAsyncDisposable
{
    private const int MaxHeaderBytes = 8 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private readonly Socket listener;
    private readonly Func<string> render;
    private readonly CancellationTokenSource stop = new();
    private readonly SemaphoreSlim slots = new(4);
    private readonly Task loop;

    /// <summary>Listens on <paramref name="endpoint"/> at once (typed errors for an address in use or not on this host).</summary>
    public MetricsEndpoint(IPEndPoint endpoint, Func<string> render)
    {
        listener = MetricsAddress.Bind(endpoint);
        this.render = render;
        Address = MetricsAddress.Format((IPEndPoint)listener.LocalEndPoint!);
        loop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The address listened on (the real port when 0 was asked).</summary>
    public string Address { get; }

    private async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener.AcceptAsync(stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            try { await slots.WaitAsync(stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException)
            {
                client.Dispose();
                return;
            }
            _ = Task.Run(async () =>
            {
                try { await ServeAsync(client); }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException) { }
                finally
                {
                    client.Dispose();
                    slots.Release();
                }
            });
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        cts.CancelAfter(RequestTimeout);
        await using var stream = new NetworkStream(client, ownsSocket: false);
        var head = await ReadHeadAsync(stream, cts.Token);
        var (status, type, body) = Respond(head);
        var bytes = Encoding.UTF8.GetBytes(body);
        var isHead = head?.StartsWith("HEAD ", StringComparison.Ordinal) == true;
        var header = $"HTTP/1.1 {status}\r\nContent-Type: {type}\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(header), cts.Token);
        if (!isHead) await stream.WriteAsync(bytes, cts.Token);
    }

    /// <summary>The answer to a request head (request line and headers); null is a request that never completed.</summary>
    internal (string Status, string ContentType, string Body) Respond(string? head)
    {
        const string text = "text/plain; charset=utf-8";
        var parts = (head ?? "").Split("\r\n", 2)[0].Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal)) return ("400 Bad Request", text, "Bad request.\n");
        if (parts[0] is not ("GET" or "HEAD")) return ("405 Method Not Allowed", text, "Only GET and HEAD.\n");
        var path = parts[1].Split('?', 2)[0];
        return path switch
        {
            "/metrics" => ("200 OK", PrometheusText.ContentType, render()),
            "/" => ("200 OK", text, "Virtuozzo host service: metrics at /metrics\n"),
            _ => ("404 Not Found", text, "Not found: metrics are at /metrics\n"),
        };
    }

    private static async Task<string?> ReadHeadAsync(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new byte[MaxHeaderBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(length), ct);
            if (n == 0) break;
            length += n;
            var end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            if (end >= 0) return Encoding.ASCII.GetString(buffer, 0, end);
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Dispose();
        try { await loop; } catch (OperationCanceledException) { }
        stop.Dispose();
    }
}
