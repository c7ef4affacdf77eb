using System.Text;
using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>The QEMU side of a test: reads what the client sent, line by line, and answers as the script says.</summary>
internal sealed class ScriptedPeer(Stream stream)
{
    private readonly List<byte> pending = [];

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
}
