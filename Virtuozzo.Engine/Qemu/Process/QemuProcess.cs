using System.Globalization;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Qemu.Process;

/// <summary>
/// Starts a VM's QEMU daemonized and answers "is it alive" from the pid file and <c>/proc/&lt;pid&gt;/stat</c>.
/// kill(pid, 0) is not enough here: a dead daemonized QEMU stays a zombie until PID 1 reaps it, so the state
/// letter decides, and the recorded start time tells our QEMU from a recycled pid.
/// </summary>
public sealed class QemuProcess(ProcessRunner runner, ILogger logger)
{
    /// <summary>What the run folder says about the VM's QEMU.</summary>
    public sealed record Status(bool Alive, int? Pid, string? DeadReason);

    public static Status Inspect(VmRuntimePaths paths)
    {
        // Listing is mostly stopped VMs: one stat answers for them, without the cost of a failed open.
        if (!File.Exists(paths.PidFile)) return new Status(false, null, null);
        var pid = ReadPid(paths.PidFile);
        if (pid is null) return new Status(false, null, null);
        var stat = ProcStat.Read(pid.Value);
        ulong? start = ulong.TryParse(TryRead(paths.StartTimeFile), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : null;
        if (stat is { IsAlive: true } && (start is null || stat.StartTimeTicks == start) && stat.Command.StartsWith("qemu", StringComparison.Ordinal))
            return new Status(true, pid, null);
        var reason = File.Exists(paths.StoppingMarker)
            ? null
            : stat is { State: 'Z' } ? $"QEMU (pid {pid}) exited unexpectedly and has not been reaped yet."
            : $"QEMU (pid {pid}) exited unexpectedly (crashed or was killed).";
        return new Status(false, null, reason);
    }

    /// <summary>Launches QEMU with -daemonize; returns once the daemon wrote its pid file (sockets listen by then).</summary>
    public async Task<int> StartAsync(VmRuntimePaths paths, IReadOnlyList<string> arguments, object target, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.RunDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var f in new[] { paths.PidFile, paths.StartTimeFile, paths.QmpSocket, paths.ServiceQmpSocket, paths.QgaSocket, paths.PausedMarker, paths.StoppingMarker })
            File.Delete(f);
        var result = await runner.RunAsync("qemu-system-x86_64", arguments,
            new ProcessRunOptions { Target = target, Timeout = TimeSpan.FromSeconds(60), ThrowOnFailure = false }, cancellationToken);
        if (result.ExitCode != 0)
        {
            var err = (result.StandardError.Length > 0 ? result.StandardError : result.StandardOutput).Trim();
            throw new VzExternalToolException("qemu-system-x86_64", arguments, result.ExitCode, err, target);
        }
        // QEMU removes its pid file when it exits, so a missing one means it died during start-up (with -incoming:
        // the saved state did not load).
        var pid = ReadPid(paths.PidFile) ?? throw new VzExternalToolException("qemu-system-x86_64", arguments, 0,
            "QEMU exited during start-up" + (arguments.Contains("-incoming") ? " while loading the saved state (discard it with Stop-VzVm)." : "; see the VM's console.log."), target);
        var stat = ProcStat.Read(pid);
        if (stat is not { IsAlive: true })
            throw new VzExternalToolException("qemu-system-x86_64", arguments, 0, "QEMU exited right after daemonizing; see the VM's console.log.", target);
        File.WriteAllText(paths.StartTimeFile, stat.StartTimeTicks.ToString(CultureInfo.InvariantCulture));
        foreach (var f in new[] { paths.PidFile, paths.StartTimeFile, paths.QmpSocket, paths.ServiceQmpSocket, paths.QgaSocket })
            if (File.Exists(f)) File.SetUnixFileMode(f, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        logger.LogInformation("Started QEMU for '{Target}' (pid {Pid}).", target, pid);
        return pid;
    }

    /// <summary>Waits until the process is gone (or a zombie); false on timeout.</summary>
    public static async Task<bool> WaitForExitAsync(int pid, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var end = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < end)
        {
            if (ProcStat.Read(pid) is not { IsAlive: true }) return true;
            await Task.Delay(50, cancellationToken);
        }
        return ProcStat.Read(pid) is not { IsAlive: true };
    }

    /// <summary>The "not running" error of operations that need QEMU up.</summary>
    public static void RequireRunning(VmRuntimePaths paths, string name)
    {
        if (!Inspect(paths).Alive)
            throw new VzInvalidStateException("VzVmNotRunning", $"The VM '{name}' is not running.", name)
            { RecommendedAction = $"Start it first: Start-VzVm -Name '{name}' -Wait." };
    }

    /// <summary>SIGTERM, on which QEMU exits at once closing its images cleanly; SIGKILL if it has not gone in 5 s.</summary>
    public static async Task TerminateAsync(int pid, object target, CancellationToken cancellationToken)
    {
        Native.LibC.kill(pid, 15);
        if (!await WaitForExitAsync(pid, TimeSpan.FromSeconds(5), cancellationToken))
            await KillAsync(pid, target, cancellationToken);
    }

    /// <summary>SIGKILL and wait for the process to die.</summary>
    public static async Task KillAsync(int pid, object target, CancellationToken cancellationToken)
    {
        Native.LibC.kill(pid, 9);
        if (!await WaitForExitAsync(pid, TimeSpan.FromSeconds(10), cancellationToken))
            throw new VzTimeoutException("VzVmKillTimeout", $"QEMU (pid {pid}) of '{target}' did not die within 10 s of SIGKILL.", target, TimeSpan.FromSeconds(10));
    }

    /// <summary>Removes the run folder (sockets, pid file, markers) once QEMU is gone, ending its shares' virtiofsd first.</summary>
    public static void CleanRunDirectory(VmRuntimePaths paths)
    {
        VirtioFsDaemon.StopAll(paths);
        if (Directory.Exists(paths.RunDirectory)) Directory.Delete(paths.RunDirectory, recursive: true);
    }

    private static int? ReadPid(string path) =>
        int.TryParse(TryRead(path)?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;

    private static string? TryRead(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
