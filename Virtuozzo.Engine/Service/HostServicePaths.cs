using Virtuozzo.Engine.Configuration;

namespace Virtuozzo.Engine.Service;

/// <summary>
/// Where the host service keeps its state. The instance lock lives in the data root (one service per data root,
/// whatever run folder it was given); pid, status, events and log live in the run folder, which a reboot clears.
/// </summary>
public sealed record HostServicePaths(string Directory, string LockFile)
{
    public static HostServicePaths For(VzPaths paths) =>
        new(Path.Combine(paths.RunRoot, "hostservice"), Path.Combine(paths.DataRoot, ".hostservice.lock"));

    public string PidFile => Path.Combine(Directory, "hostservice.pid");

    /// <summary>Written atomically after every loop: what Get-VzHostService shows.</summary>
    public string StatusFile => Path.Combine(Directory, "status.json");

    /// <summary>One JSON line per decision (started a VE, noticed a death, sent a balloon target), newest last.</summary>
    public string EventsFile => Path.Combine(Directory, "events.jsonl");

    /// <summary>Standard output and error of a service started with Start-VzHostService -Background.</summary>
    public string LogFile => Path.Combine(Directory, "hostservice.log");

    /// <summary>Present while a VM must not be ballooned by the service (a running resize writes it and removes it after; a move has its own marker).</summary>
    public static string BalloonPauseMarker(string vmRunDirectory) => Path.Combine(vmRunDirectory, "balloon-paused");
}
