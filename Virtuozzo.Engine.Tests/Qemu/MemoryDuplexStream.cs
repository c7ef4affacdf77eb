using System.Threading.Channels;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>
/// Two connected in-memory stream ends, like a socketpair: what one end writes, the other reads. Disposing an end
/// is EOF for the other. Lets the QMP and QGA clients be tested against a scripted peer without QEMU.
/// </summary>
internal sealed class MemoryDuplexStream : Stream
{
    private readonly Channel<byte[]> incoming;
    private readonly Channel<byte[]> outgoing;
    private byte[]? current;
    private int offset;

    private MemoryDuplexStream(Channel<byte[]> incoming, Channel<byte[]> outgoing) { this.incoming = incoming; this.outgoing = outgoing; }

    public static (MemoryDuplexStream Client, MemoryDuplexStream Server) CreatePair()
    {
        var a = Channel.CreateUnbounded<byte[]>();
        var b = Channel.CreateUnbounded<byte[]>();
        return (new MemoryDuplexStream(a, b), new MemoryDuplexStream(b, a));
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (current is null || offset >= current.Length)
        {
            if (!await incoming.Reader.WaitToReadAsync(cancellationToken)) return 0;
            if (incoming.Reader.TryRead(out var next)) { current = next; offset = 0; }
        }
        var n = Math.Min(buffer.Length, current.Length - offset);
        current.AsMemory(offset, n).CopyTo(buffer);
        offset += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!outgoing.Writer.TryWrite(buffer.ToArray())) throw new IOException("The other end is closed.");
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        outgoing.Writer.TryComplete();
        incoming.Writer.TryComplete();
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
