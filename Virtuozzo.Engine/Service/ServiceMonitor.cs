using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Service;

/// <summary>
/// A monitor session for the service's loop: the same monitor lock the cmdlets take, but every step (lock wait,
/// connect, each command) bounded by a short timeout, so a hung QMP socket costs one pass a few seconds and never
/// stalls the loop.
/// </summary>
internal static class ServiceMonitor
{
    public static async Task<T> RunAsync<T>(VmRuntimePaths rt, string name, TimeSpan timeout, Func<QemuMonitor, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(rt.RunDirectory))
            throw new VzInvalidStateException("VzVmNotRunning", $"The VM '{name}' has no run folder (it stopped).", name);
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
            throw new VzTimeoutException("VzVmMonitorTimeout", $"The QEMU monitor of '{name}' did not answer within {timeout.TotalSeconds:0.#} s.", name, timeout);
        }
    }
}
