using System.Text;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>
/// Reads newline-terminated JSON messages from QMP or QGA. Lines are bounded (a guest or a confused peer must not
/// make us allocate without limit), and the QGA handshake needs "drop everything up to the 0xFF sentinel".
/// </summary>
internal sealed class JsonLineReader(Stream stream, int maxLineBytes)
{
    private readonly byte[] buffer = new byte[64 * 1024];
    private int start, end;

    /// <summary>The next line without its newline, or null at end of stream.</summary>
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new MemoryStream();
        while (true)
        {
            var nl = Array.IndexOf(buffer, (byte)'\n', start, end - start);
            if (nl >= 0)
            {
                line.Write(buffer, start, nl - start);
                start = nl + 1;
                return Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length).TrimEnd('\r');
            }
            line.Write(buffer, start, end - start);
            start = end = 0;
            if (line.Length > maxLineBytes)
                throw new InvalidDataException($"A message longer than {maxLineBytes} bytes arrived; the peer is not speaking the protocol.");
            if (!await FillAsync(cancellationToken)) return line.Length > 0 ? Encoding.UTF8.GetString(line.ToArray()) : null;
        }
    }

    /// <summary>Drops bytes up to and including the next <paramref name="sentinel"/>; false at end of stream.</summary>
    public async Task<bool> SkipPastAsync(byte sentinel, CancellationToken cancellationToken)
    {
        while (true)
        {
            var at = Array.IndexOf(buffer, sentinel, start, end - start);
            if (at >= 0) { start = at + 1; return true; }
            start = end = 0;
            if (!await FillAsync(cancellationToken)) return false;
        }
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        var n = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken);
        if (n == 0) return false;
        end += n;
        return true;
    }
}
