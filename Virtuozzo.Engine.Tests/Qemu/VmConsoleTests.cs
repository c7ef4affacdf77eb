using System.Net.Sockets;
using System.Text;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Console;
using Virtuozzo.Engine.Qemu.Process;
using Xunit;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>The console session against a real unix socket standing in for QEMU's serial chardev.</summary>
public sealed class VmConsoleTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vz-console-").FullName;
    private VmRuntimePaths Rt => new(dir, dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task CopiesBothWaysUntilTheEscapeByteWhichIsNotSent()
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Rt.ConsoleSocket));
        listener.Listen(1);
        var peer = Task.Run(async () =>
        {
            using var s = await listener.AcceptAsync();
            await s.SendAsync("login banner\r\n"u8.ToArray());
            var got = new MemoryStream();
            var buf = new byte[256];
            int n;
            while ((n = await s.ReceiveAsync(buf)) > 0) got.Write(buf, 0, n);
            return Encoding.ASCII.GetString(got.ToArray());
        });
        // Typed: a command, Ctrl+], then keys that must never reach the guest.
        var input = new MemoryStream([.. "uname -a\r"u8, VmConsole.DefaultEscape, .. "reboot\r"u8]);
        var output = new MemoryStream();
        var ending = await VmConsole.RunAsync(Rt, "vm1", new SlowStream(input), output, VmConsole.DefaultEscape, CancellationToken.None);
        Assert.Equal(VmConsole.Ending.Escape, ending);
        // The session closed its end: the peer sees EOF and what was typed before the escape, nothing after.
        Assert.Equal("uname -a\r", await peer.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("login banner", Encoding.ASCII.GetString(output.ToArray()));
    }

    [Fact]
    public void OneClientAtATimeTheSecondIsToldTheConsoleIsBusy()
    {
        using (VmConsole.Claim(Rt, "vm1"))
        {
            var ex = Assert.Throws<VzUnavailableException>(() => VmConsole.Claim(Rt, "vm1"));
            Assert.Equal("VzVmConsoleBusy", ex.ErrorId);
        }
        using (VmConsole.Claim(Rt, "vm1")) { } // released when the first session ends
    }

    [Fact]
    public async Task AConsoleThatIsNotServedIsAClearError()
    {
        var ex = await Assert.ThrowsAsync<VzUnavailableException>(() => VmConsole.RunAsync(Rt, "vm1", new MemoryStream(), new MemoryStream(), VmConsole.DefaultEscape, CancellationToken.None));
        Assert.Equal("VzVmConsoleUnavailable", ex.ErrorId);
    }

    /// <summary>Input that arrives after the banner, as a person types: the first read waits a moment.</summary>
    private sealed class SlowStream(Stream inner) : Stream
    {
        private bool first = true;
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (first) { first = false; await Task.Delay(300, cancellationToken); }
            return await inner.ReadAsync(buffer, cancellationToken);
        }
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
