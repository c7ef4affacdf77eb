using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Virtuozzo.Engine.Service;

/// <summary>
/// The service's decisions: logged, appended to <see cref="HostServicePaths.EventsFile"/> (one JSON object a line,
/// rotated at 4 MiB so it never fills the run folder), and the latest kept for the status file.
/// </summary>
public sealed class HostServiceJournal(HostServicePaths paths, ILogger logger, TimeProvider? clock = null)
{
    public const int RecentCount = 20;
    private const long RotateBytes = 4 << 20;
    private readonly TimeProvider time = clock ?? TimeProvider.System;
    private readonly Queue<HostServiceEvent> recent = new();
    private readonly object gate = new();

    public HostServicePaths Paths => paths;

    public IReadOnlyList<HostServiceEvent> Recent { get { lock (gate) return recent.ToList(); } }

    public void Record(string kind, string target, string message, LogLevel level = LogLevel.Information)
    {
        var e = new HostServiceEvent { Time = time.GetUtcNow(), Kind = kind, Target = target, Message = message };
        logger.Log(level, "{Kind} {Target}: {Message}", kind, target, message);
        lock (gate)
        {
            recent.Enqueue(e);
            while (recent.Count > RecentCount) recent.Dequeue();
            try
            {
                var file = new FileInfo(paths.EventsFile);
                if (file.Exists && file.Length > RotateBytes) File.Move(paths.EventsFile, paths.EventsFile + ".1", overwrite: true);
                File.AppendAllText(paths.EventsFile, JsonSerializer.Serialize(e, HostServiceJson.Options) + "\n");
            }
            catch (IOException ex) { logger.LogWarning("Cannot append to {Path}: {Error}", paths.EventsFile, ex.Message); }
        }
    }

    /// <summary>Reads the events file (both generations), oldest first; unreadable lines are skipped.</summary>
    public static IReadOnlyList<HostServiceEvent> ReadAll(HostServicePaths paths)
    {
        var list = new List<HostServiceEvent>();
        foreach (var file in new[] { paths.EventsFile + ".1", paths.EventsFile })
        {
            if (!File.Exists(file)) continue;
            foreach (var line in File.ReadLines(file))
            {
                try { if (JsonSerializer.Deserialize<HostServiceEvent>(line, HostServiceJson.Options) is { } e) list.Add(e); }
                catch (JsonException) { /* a line torn by a crash mid-append */ }
            }
        }
        return list;
    }
}
