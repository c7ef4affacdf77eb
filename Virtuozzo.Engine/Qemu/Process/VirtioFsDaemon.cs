using System.Globalization;
using System.Text;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.SharedFolders;

namespace Virtuozzo.Engine.Qemu.Process;

/// <summary>
/// The virtiofsd of one virtio-fs share: started before QEMU (which connects to its socket at start-up), ended with
/// the VM. It runs in its own session (a Ctrl+C in the admin's terminal does not reach it) with its output in a log in
/// the VE folder. Sandboxed as far as QEMU 7.2's C daemon goes: it must run as root (it has no unprivileged mode), so
/// it confines itself with sandbox=namespace (new mount, pid and net namespaces, pivot_root into the shared folder, its
/// built-in seccomp filter), and it keeps only the capabilities file serving needs: mknod and setfcap are dropped,
/// so a guest can neither make device nodes nor file capabilities in the share.
/// </summary>
public static class VirtioFsDaemon
{
    /// <summary>Output to the log, pid to the pid file, then exec: positional arguments only, nothing interpolated.</summary>
    private const string LaunchScript = "exec </dev/null >>\"$VZ_LOG\" 2>&1; echo $$ >\"$VZ_PID\"; exec \"$@\"";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(15);

    /// <summary>virtiofsd's own arguments for <paramref name="share"/>. Pure (golden-tested beside the QEMU line).</summary>
    public static IReadOnlyList<string> Arguments(VmShareDevice share) =>
    [
        "--socket-path=" + share.SocketPath,
        "-o", "source=" + FuseOpt(share.HostPath),
        "-o", "sandbox=namespace,cache=auto,modcaps=-mknod:-setfcap",
        "-f",
    ];

    /// <summary>Starts the daemon and waits until its socket listens; returns its pid.</summary>
    public static async Task<int> StartAsync(ProcessRunner runner, VmRuntimePaths rt, VmShareDevice share, object target, CancellationToken ct)
    {
        Directory.CreateDirectory(rt.RunDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.Delete(share.SocketPath);
        var pidFile = rt.VirtioFsPidFile(share.Tag);
        File.Delete(pidFile);
        var log = rt.VirtioFsLog(share.Tag);
        File.WriteAllText(log, "");
        var args = Arguments(share);
        // setsid -f: the launcher's child leaves our session and process group; the launcher itself returns at once.
        await runner.RunAsync("setsid", ["-f", "sh", "-c", LaunchScript, "vz-virtiofsd", VmSharePlan.VirtiofsdPath, .. args],
            new ProcessRunOptions
            {
                Target = target,
                Timeout = TimeSpan.FromSeconds(10),
                Environment = new Dictionary<string, string?> { ["VZ_LOG"] = log, ["VZ_PID"] = pidFile },
            }, ct);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int? pid = null;
        while (watch.Elapsed < ReadyTimeout)
        {
            pid ??= ReadPid(pidFile);
            if (pid is { } p && ProcStat.Read(p) is not { IsAlive: true })
                throw Failed(args, log, target, "exited at start-up");
            if (pid is not null && File.Exists(share.SocketPath)) break;
            await Task.Delay(50, ct);
        }
        if (pid is not { } started || !File.Exists(share.SocketPath))
        {
            if (pid is { } p) Kill(p);
            throw Failed(args, log, target, $"did not listen on {share.SocketPath} within {ReadyTimeout.TotalSeconds:0} s");
        }
        var stat = ProcStat.Read(started)!;
        File.WriteAllText(pidFile, $"{started} {stat.StartTimeTicks.ToString(CultureInfo.InvariantCulture)}\n");
        return started;
    }

    /// <summary>The share's daemon pid when it is alive (and is the one started, not a recycled pid), else null.</summary>
    public static int? AlivePid(VmRuntimePaths rt, string tag)
    {
        var text = TryRead(rt.VirtioFsPidFile(tag))?.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (text is not { Length: 2 } || !int.TryParse(text[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !ulong.TryParse(text[1], NumberStyles.None, CultureInfo.InvariantCulture, out var start)) return null;
        return ProcStat.IsSameLiveProcess(pid, start) ? pid : null;
    }

    /// <summary>The pid recorded for a share's daemon, alive or not (for the message that says it died).</summary>
    public static int? RecordedPid(VmRuntimePaths rt, string tag) =>
        int.TryParse(TryRead(rt.VirtioFsPidFile(tag))?.Split(' ')[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;

    /// <summary>
    /// Ends every share daemon of the VM still alive: SIGTERM (its pid-namespace child gets SIGTERM with it), SIGKILL
    /// after 3 s. Each normally exits by itself once QEMU closes its socket; this covers a QEMU that never connected.
    /// </summary>
    public static void StopAll(VmRuntimePaths rt)
    {
        if (!Directory.Exists(rt.RunDirectory)) return;
        foreach (var file in Directory.EnumerateFiles(rt.RunDirectory, "vfs-*.pid"))
        {
            var tag = Path.GetFileNameWithoutExtension(file)["vfs-".Length..];
            if (AlivePid(rt, tag) is { } pid) Kill(pid);
        }
    }

    /// <summary>Ends one share's daemon (a hot add that failed after it started, or a hot-removed share's), and forgets its pid.</summary>
    public static void Stop(VmRuntimePaths rt, string tag)
    {
        if (AlivePid(rt, tag) is { } pid) Kill(pid);
        File.Delete(rt.VirtioFsPidFile(tag));
        File.Delete(rt.VirtioFsSocket(tag));
    }

    private static void Kill(int pid)
    {
        Native.LibC.kill(pid, 15);
        var end = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < end && ProcStat.Read(pid) is { IsAlive: true }) Thread.Sleep(20);
        if (ProcStat.Read(pid) is { IsAlive: true }) Native.LibC.kill(pid, 9);
    }

    private static VzExternalToolException Failed(IReadOnlyList<string> args, string log, object target, string what)
    {
        var text = TryRead(log) ?? "";
        if (text.Length > 2000) text = text[^2000..];
        return new VzExternalToolException("virtiofsd", args, 0, $"virtiofsd {what}. {text.Trim()}", target);
    }

    /// <summary>FUSE option syntax: a comma separates options, so commas (and the escape itself) are backslash-escaped.</summary>
    private static string FuseOpt(string value)
    {
        var b = new StringBuilder(value.Length);
        foreach (var c in value) { if (c is ',' or '\\') b.Append('\\'); b.Append(c); }
        return b.ToString();
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
