using System.Text.Json;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Containers.Runtime;

/// <summary>
/// Drives one OCI runtime (crun or runc) by its CLI, with its state under <paramref name="stateRoot"/>.
/// <para>
/// Commands that start a container's init (create, run) go through a fixed launcher script: the init inherits the
/// launcher's stdio, so it must get /dev/null and the console log rather than the engine's pipes (which would
/// otherwise stay open for the container's lifetime). On a hybrid cgroup host, crun 1.8 refuses to work while
/// the cgroup2 mount holds a controller; the launcher then runs in a private mount namespace
/// (<c>unshare -m --propagation slave</c>) with that mount unmounted, which changes nothing on the host.
/// </para>
/// </summary>
public sealed class OciRuntime(string name, ProcessRunner runner, string stateRoot, string? hybridUnifiedMount)
{
    /// <summary>The launcher: positional arguments are the runtime command; nothing is interpolated.</summary>
    private const string LaunchScript = "exec \"$@\" </dev/null >>\"$VZ_CONSOLE_LOG\" 2>&1";
    private const string HybridLaunchScript = "umount \"$VZ_UNIFIED\" || exit 125; " + LaunchScript;

    /// <summary>
    /// The shell for <see cref="HybridLaunchScript"/>: busybox's (busybox-static, which templates need anyway) when
    /// there, a static shell that runs its own umount applet without an exec, where dash + util-linux's umount
    /// (libmount, libblkid, libselinux, then the mount table parsed) cost 5-10 ms of every start on a busy host.
    /// </summary>
    private static readonly Lazy<string[]> hybridShell = new(() => ToolLocator.Find("busybox") is { } bb ? [bb, "sh"] : ["/bin/sh"]);

    private static readonly ProcessRunOptions Quick = new() { Timeout = TimeSpan.FromSeconds(30) };

    public string Name => name;

    /// <summary>True when create/run need the private mount namespace (crun on a hybrid host).</summary>
    public bool UsesPrivateCgroupMount => hybridUnifiedMount is not null && name == "crun";

    private string[] Global => ["--root", stateRoot];

    /// <summary>
    /// Creates the container (init waits for <see cref="StartAsync"/>); the init pid lands in <paramref name="pidFile"/>.
    /// <paramref name="memMerge"/>: the runtime starts with PR_SET_MEMORY_MERGE set, so the init inherits it (<see cref="Ksm.ProcessMerge"/>).
    /// </summary>
    public Task CreateAsync(string id, string bundle, string pidFile, string consoleLog, object target, CancellationToken ct, bool memMerge = false) =>
        LaunchAsync([.. Global, "create", "--bundle", bundle, "--pid-file", pidFile, id], consoleLog, target, ct, memMerge);

    /// <summary>create + start in one step, detached (what the benchmark compares against).</summary>
    public Task RunDetachedAsync(string id, string bundle, string pidFile, string consoleLog, object target, CancellationToken ct, bool memMerge = false) =>
        LaunchAsync([.. Global, "run", "--detach", "--bundle", bundle, "--pid-file", pidFile, id], consoleLog, target, ct, memMerge);

    /// <summary>Runs a container to completion (the host probe's trial): create, start and wait for its init to exit.</summary>
    public Task RunAttachedAsync(string id, string bundle, string consoleLog, object target, CancellationToken ct) =>
        LaunchAsync([.. Global, "run", "--bundle", bundle, id], consoleLog, target, ct);

    public async Task StartAsync(string id, object target, CancellationToken ct) =>
        await runner.RunAsync(name, [.. Global, "start", id], Quick with { Target = target }, ct);

    /// <summary>The runtime's view of the container, or null when it does not know it.</summary>
    public async Task<OciState?> StateAsync(string id, CancellationToken ct)
    {
        if (!Directory.Exists(Path.Combine(stateRoot, id))) return null; // both runtimes keep a folder per container
        var r = await runner.RunAsync(name, [.. Global, "state", id], Quick with { ThrowOnFailure = false }, ct);
        if (r.ExitCode != 0) return null;
        try
        {
            using var doc = JsonDocument.Parse(r.StandardOutput, new JsonDocumentOptions { MaxDepth = 16 });
            var status = doc.RootElement.TryGetProperty("status", out var s) ? s.GetString() ?? "unknown" : "unknown";
            var pid = doc.RootElement.TryGetProperty("pid", out var p) && p.TryGetInt32(out var v) ? v : 0;
            return new OciState(status, pid);
        }
        catch (JsonException) { return null; }
    }

    public async Task KillAsync(string id, string signal, object target, CancellationToken ct)
    {
        var r = await runner.RunAsync(name, [.. Global, "kill", id, signal], Quick with { ThrowOnFailure = false, Target = target }, ct);
        // "not running" is the race we expect when init exits on its own between our check and the signal.
        if (r.ExitCode != 0 && !(r.StandardError + r.StandardOutput).Contains("not running", StringComparison.OrdinalIgnoreCase)
            && !(r.StandardError + r.StandardOutput).Contains("process already finished", StringComparison.OrdinalIgnoreCase))
            throw new VzExternalToolException(name, r.Arguments, r.ExitCode, r.StandardError, target);
    }

    /// <summary>Forgets the container (force: kill first). Missing containers are fine.</summary>
    public async Task DeleteAsync(string id, CancellationToken ct)
    {
        if (!Directory.Exists(Path.Combine(stateRoot, id))) return;
        await runner.RunAsync(name, [.. Global, "delete", "--force", id], Quick with { ThrowOnFailure = false }, ct);
        // A runtime that could not rmdir a cgroup (a zombie not yet reaped) may leave its folder; the engine
        // removes the cgroups itself, so the state folder can go too.
        var dir = Path.Combine(stateRoot, id);
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
    }

    /// <summary>Runs a program inside the container and captures its output.</summary>
    public Task<ProcessResult> ExecAsync(string id, IReadOnlyList<string> command, TimeSpan timeout, Action<string>? onStdout, Action<string>? onStderr, string? stdin, object target, CancellationToken ct) =>
        runner.RunAsync(name, [.. Global, "exec", "--cwd", "/", id, .. command], new ProcessRunOptions
        {
            Timeout = timeout, ThrowOnFailure = false, OnStandardOutputLine = onStdout, OnStandardErrorLine = onStderr,
            StandardInput = stdin, Target = target,
        }, ct);

    /// <summary>Runs a program inside the container on the caller's terminal (interactive shell).</summary>
    public Task<int> ExecInteractiveAsync(string id, IReadOnlyList<string> command, bool tty, CancellationToken ct) =>
        runner.RunInteractiveAsync(name, [.. Global, "exec", "--cwd", "/", .. (tty ? new[] { "--tty" } : []), id, .. command], ct);

    private async Task LaunchAsync(string[] runtimeArgs, string consoleLog, object target, CancellationToken ct, bool memMerge = false)
    {
        var runtimePath = ToolLocator.Find(name) ?? throw new VzCapabilityMissingException("VzToolNotInstalled",
            $"The OCI runtime '{name}' is not installed.", target, name) { RecommendedAction = $"Install the {name} package, or choose another runtime with Set-VzHost -ContainerRuntime." };
        Directory.CreateDirectory(stateRoot);
        var before = File.Exists(consoleLog) ? new FileInfo(consoleLog).Length : 0;
        var env = new Dictionary<string, string?> { ["VZ_CONSOLE_LOG"] = consoleLog, ["VZ_UNIFIED"] = hybridUnifiedMount };
        // The caller checked ProcessMerge.EnsureSupportedAsync; an unknown architecture cannot get here.
        string[] program = memMerge && Ksm.ProcessMerge.PrctlSyscall is { } prctl ? [.. Ksm.ProcessMerge.LauncherPrefix(prctl), runtimePath] : [runtimePath];
        string tool;
        string[] args;
        if (UsesPrivateCgroupMount)
        {
            tool = "unshare";
            args = ["--mount", "--propagation", "slave", "--", .. hybridShell.Value, "-c", HybridLaunchScript, "vz-launch", .. program, .. runtimeArgs];
        }
        else
        {
            tool = "/bin/sh";
            args = ["-c", LaunchScript, "vz-launch", .. program, .. runtimeArgs];
        }
        var r = await runner.RunAsync(tool, args, new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(60), ThrowOnFailure = false, Environment = env, Target = target }, ct);
        if (r.ExitCode != 0)
        {
            var log = ReadFrom(consoleLog, before);
            throw new VzExternalToolException(name, runtimeArgs, r.ExitCode, log.Length > 0 ? log : r.StandardError, target);
        }
    }

    private static string ReadFrom(string path, long offset)
    {
        if (!File.Exists(path)) return "";
        using var f = File.OpenRead(path);
        var length = Math.Min(f.Length - offset, 16 * 1024); // the tail of what this launch wrote, bounded
        if (length <= 0) return "";
        f.Seek(-length, SeekOrigin.End);
        var buffer = new byte[length];
        f.ReadExactly(buffer);
        return System.Text.Encoding.UTF8.GetString(buffer).Trim();
    }
}
