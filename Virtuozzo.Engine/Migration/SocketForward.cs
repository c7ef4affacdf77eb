using System.Diagnostics;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Migration;

/// <summary>
/// An ssh process forwarding local unix sockets to the destination's (-L local.sock:remote.sock): the migration stream
/// and the NBD disk mirror ride on it, encrypted and authenticated by the same keys as everything else. Disposing it
/// ends the process and removes the local socket files; if it dies early, QEMU's stream or mirror fails and the
/// migration is rolled back.
/// </summary>
public sealed class SocketForward : IAsyncDisposable
{
    private readonly Process process;
    private readonly IReadOnlyList<string> localSockets;

    private SocketForward(Process process, IReadOnlyList<string> localSockets)
    {
        this.process = process;
        this.localSockets = localSockets;
    }

    /// <summary>The ssh process (fault-injection tests kill it to cut the tunnel).</summary>
    public int ProcessId => process.Id;

    public bool HasExited => process.HasExited;

    public static async Task<SocketForward> StartAsync(SshTransport ssh, IReadOnlyList<(string Local, string Remote)> sockets, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("ssh") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in ssh.BaseArguments()) psi.ArgumentList.Add(a);
        foreach (var a in new[] { "-N", "-o", "ExitOnForwardFailure=yes", "-o", "StreamLocalBindUnlink=yes", "-o", "StreamLocalBindMask=0177" })
            psi.ArgumentList.Add(a);
        foreach (var (local, remote) in sockets) { psi.ArgumentList.Add("-L"); psi.ArgumentList.Add($"{local}:{remote}"); }
        psi.ArgumentList.Add(ssh.Destination.HostName);
        foreach (var (local, _) in sockets) File.Delete(local);
        var p = Process.Start(psi) ?? throw new VzCapabilityMissingException("VzToolNotInstalled", "ssh could not be started.", "ssh", "ssh");
        var forward = new SocketForward(p, [.. sockets.Select(s => s.Local)]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!sockets.All(s => File.Exists(s.Local)))
        {
            if (p.HasExited)
            {
                var err = await p.StandardError.ReadToEndAsync(ct);
                await forward.DisposeAsync();
                throw ssh.ConnectionError(err);
            }
            if (DateTime.UtcNow > deadline)
            {
                await forward.DisposeAsync();
                throw new VzTimeoutException("VzMigrationTunnelTimeout", $"The SSH tunnel to '{ssh.Destination}' was not up within 20 s.", ssh.Destination.ToString(), TimeSpan.FromSeconds(20));
            }
            await Task.Delay(50, ct);
        }
        return forward;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
            }
        }
        catch (InvalidOperationException) { }
        catch (OperationCanceledException) { }
        process.Dispose();
        foreach (var s in localSockets) File.Delete(s);
    }
}
