using System.Diagnostics;
using Virtuozzo.Engine.Containers.Runtime;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Containers;

public sealed partial class ContainerService
{
    /// <summary>Runs a program (and its arguments, passed as they are) inside a running container, as its root, in /.</summary>
    public async Task<ContainerCommandResult> ExecAsync(Guid id, IReadOnlyList<string> command, TimeSpan timeout,
        Action<string>? onStdout, Action<string>? onStderr, string? stdin, CancellationToken ct)
    {
        if (command.Count == 0 || string.IsNullOrEmpty(command[0]))
            throw new VzInvalidArgumentException("VzEmptyCommand", "No command was given.", id, "Command");
        var (_, cfg) = RequireReady(id);
        var (running, _, runtimeName) = Live(id);
        if (!running || runtimeName is null)
            throw new VzInvalidStateException("VzContainerNotRunning", $"The container {cfg.Name} is not running.", cfg.Name)
            { RecommendedAction = "Start it with Start-VzContainer." };
        if (CgroupPlacement.IsFrozen(id))
            throw new VzInvalidStateException("VzContainerSuspended", $"The container {cfg.Name} is suspended.", cfg.Name)
            { RecommendedAction = "Resume it with Resume-VzContainer." };
        var watch = Stopwatch.StartNew();
        var r = await Runtimes.Get(runtimeName).ExecAsync(OciRuntimes.RuntimeId(id), command, timeout, onStdout, onStderr, stdin, cfg.Name, ct);
        return new ContainerCommandResult
        {
            Name = cfg.Name, Id = id, Command = [.. command], ExitCode = r.ExitCode,
            StdOut = r.StandardOutput, StdErr = r.StandardError, Duration = watch.Elapsed,
        };
    }

    /// <summary>An interactive shell inside a running container on the caller's terminal; returns the shell's exit code.</summary>
    public Task<int> EnterAsync(Guid id, string shell, bool tty, CancellationToken ct)
    {
        var (_, cfg) = RequireReady(id);
        var (running, _, runtimeName) = Live(id);
        if (!running || runtimeName is null)
            throw new VzInvalidStateException("VzContainerNotRunning", $"The container {cfg.Name} is not running.", cfg.Name)
            { RecommendedAction = "Start it with Start-VzContainer." };
        return Runtimes.Get(runtimeName).ExecInteractiveAsync(OciRuntimes.RuntimeId(id), [shell, "-l"], tty, ct);
    }

    /// <summary>
    /// The host probe's runtime trial: runs a real throw-away container (busybox true, in its own user namespace and
    /// cgroup) with <paramref name="info"/>'s runtime and cleans it up. Null when it worked, else why not.
    /// </summary>
    public async Task<string?> RuntimeTrialAsync(OciRuntimeInfo info, CancellationToken ct)
    {
        var work = Path.Combine(paths.RunRoot, $"trial-{info.Name}-{Guid.NewGuid():N}"[..40]);
        var id = $"vz-trial-{Guid.NewGuid():N}"[..24];
        var cgroup = $"{paths.CgroupParent}/{id}";
        const long trialBase = 4_000_000_000; // above every container range
        var runtime = Runtimes.Get(info.Name);
        try
        {
            var root = Path.Combine(work, "root");
            foreach (var d in new[] { "bin", "proc", "sys", "dev", "tmp", "run" }) Directory.CreateDirectory(Path.Combine(root, d));
            var busybox = new[] { "/bin/busybox", "/usr/bin/busybox" }.FirstOrDefault(File.Exists);
            if (busybox is null) return "no busybox to run a trial container with (install busybox-static)";
            File.Copy(busybox, Path.Combine(root, "bin/busybox"));
            OwnershipShifter.Shift(root, 0, trialBase);
            File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101);
            var limits = ContainerConfigurator.ToLimits(new Store.VeConfig { Memory = { MemorySize = 64L << 20 } }, HostLimits.Read().CpuCount);
            OciBundleWriter.Write(work, new OciBundleInput
            {
                RootPath = root, Hostname = "trial", InitArgs = ["/bin/busybox", "true"], UidBase = trialBase, UidCount = 65536,
                CgroupsPath = "/" + cgroup, Limits = limits,
                // The trial runs the filter every container gets, so a runtime built without seccomp fails the probe.
                Seccomp = SeccompProfile.BuildDefault(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture),
            });
            await runtime.RunAttachedAsync(id, work, Path.Combine(work, "console.log"), info.Name, ct);
            return null;
        }
        catch (VzException ex) { return ex.Message; }
        catch (IOException ex) { return ex.Message; }
        finally
        {
            try
            {
                await runtime.DeleteAsync(id, CancellationToken.None);
                CgroupPlacement.Backend.Delete(cgroup, paths.CgroupParent);
                if (Directory.Exists(work)) Directory.Delete(work, true);
            }
            catch (Exception ex) when (ex is VzException or IOException) { }
        }
    }
}
