using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Agent;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>
/// Opens short QMP and QGA sessions for one operation. QEMU serves one client per socket and a second connect
/// hangs without a greeting, so a session is held only for the call that needs it, under a flock in the run folder
/// that serializes pwsh processes on one host.
/// </summary>
public static class VmConnections
{
    public static readonly TimeSpan MonitorTimeout = TimeSpan.FromSeconds(15);

    public static async Task<T> WithMonitorAsync<T>(VmRuntimePaths paths, string name, Func<QmpClient, Task<T>> work, CancellationToken cancellationToken)
    {
        RequireRunning(paths, name);
        using var gate = FileLock.Acquire(paths.QmpLock, TimeSpan.FromSeconds(30), name, cancellationToken);
        await using var qmp = await QmpClient.ConnectAsync(paths.QmpSocket, MonitorTimeout, name, cancellationToken);
        return await work(qmp);
    }

    /// <summary>An agent session already synced; the whole call, lock wait included, is bounded by <paramref name="timeout"/>.</summary>
    public static async Task<T> WithAgentAsync<T>(VmRuntimePaths paths, string name, TimeSpan timeout, Func<QgaClient, Task<T>> work, CancellationToken cancellationToken)
    {
        RequireRunning(paths, name);
        var started = DateTime.UtcNow;
        FileLock gate;
        try { gate = FileLock.Acquire(paths.QgaLock, timeout, name, cancellationToken); }
        catch (VzTimeoutException)
        {
            throw new VzTimeoutException("VzGuestAgentBusy", $"Another command is using the guest agent of '{name}' and did not finish within {timeout.TotalSeconds:0.#} s.", name, timeout);
        }
        using (gate)
        {
            await using var qga = await QgaClient.ConnectAsync(paths.QgaSocket, name, cancellationToken);
            var left = timeout - (DateTime.UtcNow - started);
            await qga.SyncAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1), cancellationToken);
            return await work(qga);
        }
    }

    public static void RequireRunning(VmRuntimePaths paths, string name)
    {
        if (!QemuProcess.Inspect(paths).Alive)
            throw new VzInvalidStateException("VzVmNotRunning", $"The VM '{name}' is not running.", name)
            { RecommendedAction = $"Start it first: Start-VzVm -Name '{name}' -Wait." };
    }
}
