using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Service;

/// <summary>
/// Monitor sessions for the service: every step (lock wait, connect, each command) bounded by a short timeout, so
/// a hung QMP socket costs one pass a few seconds and never stalls the loop. <see cref="RunOnceAsync"/> opens the
/// VM's monitor for one operation under its lock, as a cmdlet does. An instance keeps one connection per VM to the
/// monitor QEMU serves for the service alone (<see cref="VmRuntimePaths.ServiceQmpSocket"/>) open between passes:
/// the memory manager samples each running VM every second, and a connect, greeting and capabilities negotiation
/// per sample was most of the service's CPU. Owned by one loop; not for concurrent callers.
/// </summary>
internal sealed class ServiceMonitor : IAsyncDisposable
{
    private readonly Dictionary<string, (int Pid, QmpClient Client)> open = [];

    /// <summary>
    /// Runs <paramref name="work"/> on the VM's kept connection (opened now if there is none, or QEMU is another
    /// process than the one it was opened to). A VM started before the service monitor existed has no such socket:
    /// it gets a session of its own per call. A failure that may have left the connection in doubt (timeout, a
    /// closed or broken socket) drops it; the next call connects again.
    /// </summary>
    public async Task<T> RunAsync<T>(VmRuntimePaths rt, int pid, string name, TimeSpan timeout, Func<QemuMonitor, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        if (!File.Exists(rt.ServiceQmpSocket)) return await RunOnceAsync(rt, name, timeout, work, cancellationToken);
        RequireRunFolder(rt, name);
        // No monitor lock: this monitor serves no one else, so nothing can hang on it. (Taking the lock had the
        // service's own metrics and guest tools passes poll for it, which cost more CPU than the samples.) A cmdlet
        // that changes the balloon says so with the VM's pause marker instead, read just before every decision.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var kept = false;
        try
        {
            if (!open.TryGetValue(rt.RunDirectory, out var entry) || entry.Pid != pid || entry.Client.Closed.IsCompleted)
            {
                await DropAsync(rt.RunDirectory);
                entry = (pid, await QmpClient.ConnectAsync(rt.ServiceQmpSocket, timeout, name, cts.Token));
                open[rt.RunDirectory] = entry;
            }
            // Not disposed: disposing the wrapper would close the kept connection.
            var result = await work(new QemuMonitor(entry.Client), cts.Token);
            kept = true;
            return result;
        }
        catch (QmpException)
        {
            kept = true; // QEMU answered with an error: the connection itself is fine
            throw;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Hung(name, timeout);
        }
        finally
        {
            if (!kept) await DropAsync(rt.RunDirectory);
        }
    }

    /// <summary>Closes the kept connections of VMs not in <paramref name="running"/> (stopped, or moved away).</summary>
    public async Task ForgetAllButAsync(IEnumerable<VmRuntimePaths> running)
    {
        var keep = running.Select(r => r.RunDirectory).ToHashSet();
        foreach (var dir in open.Keys.Where(d => !keep.Contains(d)).ToList()) await DropAsync(dir);
    }

    private async Task DropAsync(string runDirectory)
    {
        if (!open.Remove(runDirectory, out var entry)) return;
        await entry.Client.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var dir in open.Keys.ToList()) await DropAsync(dir);
    }

    /// <summary>Opens the VM's own monitor for one operation and closes it after, as a cmdlet does.</summary>
    public static async Task<T> RunOnceAsync<T>(VmRuntimePaths rt, string name, TimeSpan timeout, Func<QemuMonitor, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        RequireRunFolder(rt, name);
        using var gate = FileLock.Acquire(rt.QmpLock, timeout, name, cancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await using var qmp = await QmpClient.ConnectAsync(rt.QmpSocket, timeout, name, cts.Token);
            return await work(new QemuMonitor(qmp), cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Hung(name, timeout);
        }
    }

    private static void RequireRunFolder(VmRuntimePaths rt, string name)
    {
        if (!Directory.Exists(rt.RunDirectory))
            throw new VzInvalidStateException("VzVmNotRunning", $"The VM '{name}' has no run folder (it stopped).", name);
    }

    private static VzTimeoutException Hung(string name, TimeSpan timeout) =>
        new("VzVmMonitorTimeout", $"The QEMU monitor of '{name}' did not answer within {timeout.TotalSeconds:0.#} s.", name, timeout);
}
