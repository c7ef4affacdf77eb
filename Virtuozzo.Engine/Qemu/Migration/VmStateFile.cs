using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Monitor;

namespace Virtuozzo.Engine.Qemu.Migration;

/// <summary>
/// Suspend to disk over QEMU's migration stream: the outgoing side writes memory and device state to a file, and the
/// next start loads it with -incoming (see <see cref="QemuCommandLine"/>). Live migration to another host will use
/// the same monitor calls with a socket instead of a file.
/// </summary>
public static class VmStateFile
{
    /// <summary>
    /// Pauses the vCPUs and streams the state to <paramref name="path"/> (written as PATH.partial, renamed when
    /// complete, 0600). On failure or timeout the migration is cancelled and the VM runs on.
    /// </summary>
    public static async Task SaveAsync(QemuMonitor monitor, string path, TimeSpan timeout, string name, CancellationToken ct)
    {
        var partial = path + ".partial";
        File.Delete(partial);
        await monitor.StopAsync(ct);
        // QEMU 7.2 has no file: migration URI; exec runs /bin/sh -c, so the path is single-quoted.
        await monitor.MigrateAsync($"exec:cat > {QemuCommandLine.ShellQuote(partial)}", ct);
        var end = DateTime.UtcNow + timeout;
        while (true)
        {
            var st = await monitor.QueryMigrateAsync(ct);
            if (st.Status == "completed") break;
            if (st.Status is "failed" or "cancelled")
            {
                await monitor.ContAsync(ct);
                throw new VzInvalidStateException("VzVmSaveFailed", $"Saving the state of '{name}' failed: {st.ErrorDescription ?? st.Status}. The VM runs on.", name);
            }
            if (DateTime.UtcNow > end)
            {
                await monitor.MigrateCancelAsync(ct);
                await monitor.ContAsync(ct);
                throw new VzTimeoutException("VzVmSaveTimeout", $"Saving the state of '{name}' took longer than {timeout.TotalSeconds:0} s; it was cancelled and the VM runs on.", name, timeout);
            }
            await Task.Delay(100, ct);
        }
        File.Move(partial, path, overwrite: true);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>Waits (up to 5 minutes) for QEMU started with -incoming to load the state, then lets the vCPUs run.</summary>
    public static async Task ResumeLoadedAsync(QemuMonitor monitor, string name, CancellationToken ct)
    {
        var end = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (true)
        {
            var status = await monitor.QueryStatusAsync(ct);
            if (status is "paused" or "postmigrate" or "prelaunch") { await monitor.ContAsync(ct); return; }
            if (status == "running") return;
            if (status is "inmigrate" && DateTime.UtcNow < end) { await Task.Delay(100, ct); continue; }
            throw new VzInvalidStateException("VzVmRestoreFailed", $"QEMU could not load the saved state of '{name}' (status {status}).", name)
            { RecommendedAction = $"Discard the saved state with Stop-VzVm -Name '{name}' and start it afresh." };
        }
    }
}
