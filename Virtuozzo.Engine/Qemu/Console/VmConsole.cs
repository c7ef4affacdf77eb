using System.Net.Sockets;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu.Console;

/// <summary>
/// A session on a VM's serial console (QEMU's ttyS0 as a unix socket, its output also logged to console.log), as
/// virsh console gives one: bytes both ways unchanged until the escape byte (Ctrl+], 0x1d) is typed or the VM ends.
/// One session at a time: the first holds an exclusive flock on console.lock (the kernel drops it if the holder
/// dies) and a second is refused at once with VzVmConsoleBusy, instead of hanging in QEMU's accept queue.
/// </summary>
public static class VmConsole
{
    /// <summary>Ctrl+], the escape of virsh console and telnet.</summary>
    public const byte DefaultEscape = 0x1d;

    /// <summary>How the session ended.</summary>
    public enum Ending { Escape, InputClosed, ConsoleClosed, Cancelled }

    /// <summary>Takes the console for <paramref name="name"/>, or says who holds it.</summary>
    public static IDisposable Claim(VmRuntimePaths rt, string name)
    {
        try { return FileLock.Acquire(rt.ConsoleLock, TimeSpan.Zero, name); }
        catch (VzTimeoutException)
        {
            throw new VzUnavailableException("VzVmConsoleBusy", $"The serial console of '{name}' is attached in another session; it takes one client at a time.", name)
            { RecommendedAction = "Leave the other session (Ctrl+]), or use Enter-VzVm -Agent for a shell through the guest agent meanwhile." };
        }
    }

    /// <summary>
    /// Copies <paramref name="input"/> to the console and the console to <paramref name="output"/> until the escape
    /// byte, the end of input, the console closing (QEMU ended) or cancellation. Bytes typed before the escape in
    /// the same read are still sent.
    /// </summary>
    public static async Task<Ending> RunAsync(VmRuntimePaths rt, string name, Stream input, Stream output, byte escape, CancellationToken ct)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { await socket.ConnectAsync(new UnixDomainSocketEndPoint(rt.ConsoleSocket), ct); }
        catch (SocketException ex)
        {
            throw new VzUnavailableException("VzVmConsoleUnavailable", $"The serial console of '{name}' cannot be reached ({ex.SocketErrorCode}); the VM was started before consoles were served.", name)
            { RecommendedAction = "Restart the VM (Restart-VzVm) to get its console, or use Enter-VzVm -Agent." };
        }
        await using var console = new NetworkStream(socket, ownsSocket: false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var fromConsole = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            int n;
            while ((n = await console.ReadAsync(buffer, stop.Token)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, n), stop.Token);
                await output.FlushAsync(stop.Token);
            }
            return Ending.ConsoleClosed;
        }, stop.Token);
        // Input from a terminal cannot be cancelled mid-read; this task is left to end with the next key or EOF.
        var toConsole = Task.Run(async () =>
        {
            var buffer = new byte[1024];
            int n;
            while ((n = await input.ReadAsync(buffer, stop.Token)) > 0)
            {
                var at = Array.IndexOf(buffer, escape, 0, n);
                await console.WriteAsync(buffer.AsMemory(0, at < 0 ? n : at), stop.Token);
                if (at >= 0) return Ending.Escape;
            }
            return Ending.InputClosed;
        }, stop.Token);
        Ending ending;
        try { ending = await await Task.WhenAny(fromConsole, toConsole); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { ending = Ending.Cancelled; }
        catch (IOException) { ending = Ending.ConsoleClosed; }
        stop.Cancel();
        return ending;
    }
}
