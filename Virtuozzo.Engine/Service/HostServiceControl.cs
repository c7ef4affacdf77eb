using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Service;

/// <summary>
/// What the cmdlets do to the host service: ask whether it runs, start it in the background, stop it, install its
/// systemd unit. The service itself is <c>Virtuozzo.HostService</c>; this class only talks to it through its lock,
/// pid file, status file and signals.
/// </summary>
public sealed class HostServiceControl(VzPaths vzPaths, ProcessRunner runner, ILogger logger)
{
    public HostServicePaths Paths { get; } = HostServicePaths.For(vzPaths);

    public HostServiceInfo Get()
    {
        var running = HostServiceLock.IsHeld(Paths);
        var pid = running ? HostServiceLock.ReadPid(Paths) : null;
        var status = running ? HostServiceJson.TryRead<HostServiceStatus>(Paths.StatusFile) : null;
        if (status is not null && status.ProcessId != pid) status = null; // a previous run's file
        var decisions = status?.LastDecisions ?? (running ? [] : LastEvents(HostServiceJournal.RecentCount));
        return new HostServiceInfo
        {
            Running = running,
            ProcessId = pid,
            StartedAt = status?.StartedAt,
            Uptime = status is null ? null : DateTimeOffset.UtcNow - status.StartedAt,
            LastLoopAt = status?.LastLoopAt,
            LoopCount = status?.LoopCount ?? 0,
            Phase = running ? status?.Phase ?? "Starting" : "Stopped",
            DataRoot = vzPaths.DataRoot,
            StatusPath = Paths.StatusFile,
            LogPath = Paths.LogFile,
            LastDecisions = decisions,
        };
    }

    private IReadOnlyList<HostServiceEvent> LastEvents(int count)
    {
        try { return HostServiceJournal.ReadAll(Paths).TakeLast(count).ToList(); }
        catch (IOException) { return []; }
    }

    /// <summary>
    /// Starts the service detached from this process (its own session, output to <see cref="HostServicePaths.LogFile"/>)
    /// and waits until it holds its lock and reports its first loop.
    /// </summary>
    public async Task<HostServiceInfo> StartBackgroundAsync(HostServiceLauncher launcher, TimeSpan timeout, CancellationToken cancellationToken)
    {
        RequireNotRunning();
        Directory.CreateDirectory(Paths.Directory);
        var startedAt = DateTimeOffset.UtcNow;
        // setsid -f: a new session, so closing the terminal or ending pwsh does not signal the service. The fixed
        // shell script only redirects stdio (a .NET child would otherwise inherit our pipes); the program and its
        // arguments arrive as positional parameters, never inside the script text.
        var args = new List<string> { "-f", "/bin/sh", "-c", "exec \"$@\" </dev/null >>\"$VZ_HOSTSERVICE_LOG\" 2>&1", "vz-hostservice", launcher.Program };
        args.AddRange(launcher.Arguments);
        var options = new ProcessRunOptions
        {
            Target = "hostservice",
            Timeout = TimeSpan.FromSeconds(30),
            Environment = new Dictionary<string, string?> { ["VZ_HOSTSERVICE_LOG"] = Paths.LogFile },
        };
        await runner.RunAsync("setsid", args, options, cancellationToken);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var info = Get();
            if (info.Running && info.StartedAt is { } at && at >= startedAt.AddSeconds(-2)) return info;
            if (watch.Elapsed > timeout)
                throw new VzTimeoutException("VzHostServiceStartTimeout",
                    $"The host service did not report its start within {timeout.TotalSeconds:0} s. {Tail(Paths.LogFile)}", "hostservice", timeout)
                { RecommendedAction = $"Read {Paths.LogFile}, or run Start-VzHostService in the foreground to see why." };
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>
    /// Runs the service in this terminal (its log on our console) until it ends or <paramref name="cancellationToken"/>
    /// fires (Ctrl+C), which sends it SIGTERM and waits for AutoStop to finish. Returns its exit code.
    /// </summary>
    public async Task<int> RunForegroundAsync(HostServiceLauncher launcher, TimeSpan stopTimeout, CancellationToken cancellationToken)
    {
        RequireNotRunning();
        var start = new ProcessStartInfo(launcher.Program) { UseShellExecute = false };
        foreach (var a in launcher.Arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new VzExternalToolException(launcher.Program, launcher.Arguments, -1, "could not start", "hostservice");
        try { await process.WaitForExitAsync(cancellationToken); }
        catch (OperationCanceledException)
        {
            Native.LibC.kill(process.Id, 15);
            using var cts = new CancellationTokenSource(stopTimeout);
            try { await process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                process.Kill();
                throw new VzTimeoutException("VzHostServiceStopTimeout", $"The host service (pid {process.Id}) did not stop within {stopTimeout.TotalSeconds:0} s of Ctrl+C; it was killed (VEs keep running).", "hostservice", stopTimeout);
            }
        }
        return process.ExitCode;
    }

    /// <summary>
    /// The launcher for the service laid out beside the module (<c>hostservice/Virtuozzo.HostService.dll</c>), run by
    /// the dotnet host that runs this process, or the first one found.
    /// </summary>
    public static HostServiceLauncher FindLauncher(string moduleDirectory)
    {
        var dll = Path.Combine(moduleDirectory, "hostservice", "Virtuozzo.HostService.dll");
        if (!File.Exists(dll))
            throw new VzCapabilityMissingException("VzHostServiceMissing", $"The host service is not laid out with the module ({dll} is missing).", "hostservice", dll)
            { RecommendedAction = "Rebuild and lay out the module: ./build.sh Build,Layout." };
        var candidates = new List<string?> { Environment.ProcessPath };
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, "dotnet")));
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root) candidates.Add(Path.Combine(root, "dotnet"));
        candidates.AddRange(["/usr/share/dotnet/dotnet", "/usr/lib/dotnet/dotnet", Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "dotnet")]);
        var dotnet = candidates.FirstOrDefault(c => c is not null && Path.GetFileName(c) == "dotnet" && File.Exists(c))
            ?? throw new VzCapabilityMissingException("VzDotnetMissing", "No 'dotnet' host was found to run the host service.", "hostservice", "dotnet")
            { RecommendedAction = "Install the .NET 10 runtime, or put 'dotnet' on PATH." };
        return new HostServiceLauncher(Path.GetFullPath(dotnet), [dll]);
    }

    /// <summary>Throws <c>VzHostServiceRunning</c>, naming the pid, when the service of this data root runs.</summary>
    public void RequireNotRunning()
    {
        if (!HostServiceLock.IsHeld(Paths)) return;
        throw new VzInvalidStateException("VzHostServiceRunning",
            $"The host service for {vzPaths.DataRoot} already runs (pid {HostServiceLock.ReadPid(Paths)?.ToString() ?? "unknown"}).", "hostservice")
        { RecommendedAction = "Use the running one (Get-VzHostService), or stop it first with Stop-VzHostService." };
    }

    /// <summary>SIGTERM and wait until the lock is free (the service runs AutoStop first); false when it was not running.</summary>
    public async Task<bool> StopAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!HostServiceLock.IsHeld(Paths)) return false;
        var pid = HostServiceLock.ReadPid(Paths)
            ?? throw new VzInvalidStateException("VzHostServicePidUnknown", $"The host service holds {Paths.LockFile} but wrote no pid to {Paths.PidFile}.", "hostservice")
            { RecommendedAction = "Wait a second and retry (it is starting), or find it with 'fuser' on the lock file." };
        Native.LibC.kill(pid, 15);
        logger.LogInformation("Sent SIGTERM to the host service (pid {Pid}).", pid);
        var watch = Stopwatch.StartNew();
        while (HostServiceLock.IsHeld(Paths))
        {
            if (watch.Elapsed > timeout)
                throw new VzTimeoutException("VzHostServiceStopTimeout", $"The host service (pid {pid}) did not stop within {timeout.TotalSeconds:0} s.", "hostservice", timeout)
                { RecommendedAction = $"It may still be stopping VEs (AutoStop): wait, or end it with 'kill -9 {pid}' (VEs keep running)." };
            await Task.Delay(100, cancellationToken);
        }
        return true;
    }

    /// <summary>
    /// Writes the unit file; where systemd runs, reloads it and enables and starts the unit. Elsewhere the result says
    /// how to start the service by hand.
    /// </summary>
    public async Task<HostServiceUnit> InstallAsync(HostServiceLauncher launcher, string? unitPath, CancellationToken cancellationToken)
    {
        var path = Path.GetFullPath(unitPath ?? Path.Combine(SystemdUnit.DefaultDirectory, SystemdUnit.DefaultUnitName));
        var name = Path.GetFileName(path);
        if (!name.EndsWith(".service", StringComparison.Ordinal))
            throw new VzInvalidArgumentException("VzInvalidUnitPath", $"A systemd service unit's file name ends in '.service'; '{name}' does not.", path, "Path");
        var content = SystemdUnit.Render(launcher, vzPaths, Environment.GetEnvironmentVariable("VZ_HOST_CONFIG"));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Store.AtomicFile.WriteAllText(path, content, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        // sd_booted(): systemd is PID 1 when this folder exists.
        var systemd = Directory.Exists("/run/systemd/system");
        var enabled = false;
        if (systemd && unitPath is null)
        {
            await runner.RunAsync("systemctl", ["daemon-reload"], new ProcessRunOptions { Target = name }, cancellationToken);
            await runner.RunAsync("systemctl", ["enable", "--now", name], new ProcessRunOptions { Target = name }, cancellationToken);
            enabled = true;
        }
        var start = string.Join(' ', new[] { launcher.Program }.Concat(launcher.Arguments));
        return new HostServiceUnit
        {
            Path = path,
            UnitName = name,
            Enabled = enabled,
            SystemdRunning = systemd,
            StartCommand = enabled ? $"systemctl status {name}" : systemd ? $"systemctl enable --now {name}" : "Start-VzHostService -Background",
            Content = content,
        };
    }

    private static string Tail(string path)
    {
        try
        {
            var lines = File.Exists(path) ? File.ReadLines(path).TakeLast(5).ToList() : [];
            return lines.Count == 0 ? "" : "Its log ends: " + string.Join(" | ", lines);
        }
        catch (IOException) { return ""; }
    }
}
