using System.Globalization;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Containers.Runtime;

/// <summary>
/// A running container's init, as its run folder records it: which runtime started it, its pid, and its start time
/// (so a recycled pid is never mistaken for it), plus the console log. Read from files and /proc, no subprocess.
/// </summary>
public sealed record ContainerInit(string RunDirectory)
{
    public string RuntimeFile => Path.Combine(RunDirectory, "runtime");
    public string PidFile => Path.Combine(RunDirectory, "init.pid");
    public string StartFile => Path.Combine(RunDirectory, "init.start");
    public string ConsoleLog => Path.Combine(RunDirectory, "console.log");

    /// <summary>What is running right now: alive, the init pid, and the runtime that started it.</summary>
    public (bool Running, int Pid, string? Runtime) Live()
    {
        if (!Directory.Exists(RunDirectory)) return (false, 0, null); // stopped through the engine: one stat
        // A recorded start holds all three in init.start ("start pid runtime"): one read instead of three, which a
        // listing of hundreds of running containers notices. A start still under way has no such line yet.
        if (ReadSmall(StartFile)?.Split(' ') is [var s, var p, var r] && ulong.TryParse(s, out var recordedStart) && int.TryParse(p, out var recordedPid))
            return (ProcStat.IsSameLiveProcess(recordedPid, recordedStart), recordedPid, r);
        var runtime = ReadSmall(RuntimeFile);
        if (runtime is null) return (false, 0, null);
        if (!int.TryParse(ReadSmall(PidFile), out var pid) || !ulong.TryParse(ReadSmall(StartFile)?.Split(' ')[0], out var start))
            return (false, 0, runtime);
        return (ProcStat.IsSameLiveProcess(pid, start), pid, runtime);
    }

    /// <summary>Creates the run folder (0700) and notes the runtime a start is about to use.</summary>
    public void Prepare(string runtime)
    {
        Directory.CreateDirectory(RunDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(RuntimeFile, runtime);
    }

    /// <summary>Reads the init pid the runtime wrote and records its start time.</summary>
    public int Record(string name, string runtime)
    {
        var pid = int.TryParse(ReadSmall(PidFile), out var p) ? p : 0;
        var stat = (pid > 0 ? ProcStat.Read(pid) : null);
        if (stat is not { IsAlive: true })
        {
            // The run folder (and its console log) is cleaned up after this, so the log's tail goes into the error.
            var log = File.Exists(ConsoleLog) ? File.ReadAllText(ConsoleLog).Trim() : "";
            if (log.Length > 2000) log = log[^2000..];
            throw new VzInvalidStateException("VzContainerDiedOnStart",
                $"The init of {name} exited during start.{(log.Length > 0 ? " Its console said: " + log : "")}", name)
            { RecommendedAction = "Check the template's init (/sbin/init) inside the container." };
        }
        File.WriteAllText(StartFile, string.Create(CultureInfo.InvariantCulture, $"{stat.StartTimeTicks} {pid} {runtime}"));
        return pid;
    }

    /// <summary>The runtime named in the run folder, if a start got that far.</summary>
    public string? RecordedRuntime => ReadSmall(RuntimeFile);

    public void Remove()
    {
        if (Directory.Exists(RunDirectory)) Directory.Delete(RunDirectory, true);
    }

    /// <summary>
    /// Waits until the init is gone or a zombie. There is no portable event for "another process's child exited",
    /// so this polls /proc (cheap) with a bound.
    /// </summary>
    public static async Task<bool> WaitForExitAsync(int pid, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (ProcStat.Read(pid) is { IsAlive: true })
        {
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(25, ct);
        }
        return true;
    }

    /// <summary>One open and read (a listing reads three of these per container); null when missing.</summary>
    private static string? ReadSmall(string path) => Cgroups.CgroupFile.Read(path)?.Trim();
}
