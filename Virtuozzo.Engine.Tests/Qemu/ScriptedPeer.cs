using System.Text;
using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>The QEMU side of a test: reads what the client sent, line by line, and answers as the script says.</summary>
internal sealed class ScriptedPeer(Stream stream)
{
    private readonly List<byte> pending = [];

    /// <summary>A connected pair: the client's end, and the peer scripted on the other end.</summary>
    public static (MemoryDuplexStream Client, ScriptedPeer Peer) CreatePair()
    {
        var (client, server) = MemoryDuplexStream.CreatePair();
        return (client, new ScriptedPeer(server));
    }

    /// <summary>The next line the client wrote, raw (a leading 0xFF is kept as the char U+00FF... as a flag).</summary>
    public async Task<(bool Sentinel, JsonObject Message)> ReadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(5));
        var buffer = new byte[4096];
        while (true)
        {
            var nl = pending.IndexOf((byte)'\n');
            if (nl >= 0)
            {
                var line = pending.Take(nl).ToArray();
                pending.RemoveRange(0, nl + 1);
                var sentinel = line.Length > 0 && line[0] == 0xFF;
                var text = Encoding.UTF8.GetString(sentinel ? line[1..] : line);
                return (sentinel, (JsonObject)JsonNode.Parse(text)!);
            }
            var n = await stream.ReadAsync(buffer, cts.Token);
            if (n == 0) throw new EndOfStreamException("The client closed the connection.");
            pending.AddRange(buffer.Take(n));
        }
    }

    public async Task SendAsync(string text) => await stream.WriteAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendRawAsync(byte[] bytes) => await stream.WriteAsync(bytes);

    /// <summary>Closes the peer's end: the client reads EOF, as when QEMU or the agent goes away.</summary>
    public void Close() => stream.Dispose();

    /// <summary>Reads one QMP command, checks its name and answers it with <paramref name="reply"/>; returns the request.</summary>
    public async Task<JsonObject> AnswerAsync(string command, string reply = "{}")
    {
        var req = await ReadCommandAsync(command);
        await ReplyAsync(req, reply);
        return req;
    }

    /// <summary>Reads one QMP command, checks its name and arguments (JSON text, or null for none) and answers with <paramref name="reply"/>.</summary>
    public async Task ExpectAsync(string command, string? arguments, string reply = "{}")
    {
        var req = await ReadCommandAsync(command);
        if (arguments is null) Assert.Null(req["arguments"]);
        else Assert.True(JsonNode.DeepEquals(JsonNode.Parse(arguments), req["arguments"]), $"{command} sent {req["arguments"]?.ToJsonString()}");
        await ReplyAsync(req, reply);
    }

    /// <summary>Answers a QMP request with <paramref name="result"/> (JSON text) under the request's id.</summary>
    public Task ReplyAsync(JsonObject request, string result = "{}") => SendAsync($"{{\"return\": {result}, \"id\": \"{request["id"]}\"}}\n");

    /// <summary>Reads one guest agent command, checks its name and answers it with <paramref name="reply"/> (the agent's replies carry no id).</summary>
    public async Task<JsonObject> AnswerAgentAsync(string command, string reply)
    {
        var req = await ReadCommandAsync(command);
        await SendAsync($"{{\"return\": {reply}}}\n");
        return req;
    }

    /// <summary>Answers a guest-sync-delimited: the 0xFF sentinel, then the id echoed.</summary>
    public Task SendSyncReplyAsync(long id) => SendRawAsync([0xFF, .. Encoding.UTF8.GetBytes($"{{\"return\": {id}}}\n")]);

    private async Task<JsonObject> ReadCommandAsync(string command)
    {
        var (_, req) = await ReadAsync();
        Assert.Equal(command, req["execute"]!.GetValue<string>());
        return req;
    }
}
