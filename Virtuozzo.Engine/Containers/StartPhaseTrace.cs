using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// Where a container start spends its time: each phase's milliseconds at trace level (Start-VzContainer -Debug
/// shows them), so a slow start on a busy host can be taken apart without a profiler. One line at the end, not one
/// per phase, so a start over a pipeline of hundreds stays readable.
/// </summary>
internal sealed class StartPhaseTrace(ILogger logger, string name)
{
    private readonly Stopwatch watch = Stopwatch.StartNew();
    private readonly List<string> phases = [];
    private TimeSpan last;

    /// <summary>Ends the phase that ran since the previous mark.</summary>
    public void Mark(string phase)
    {
        var now = watch.Elapsed;
        phases.Add($"{phase} {(now - last).TotalMilliseconds:0.0}");
        last = now;
    }

    public void Done() =>
        logger.LogTrace("Start of {Name}: {Phases} ms; {Total:0.0} ms in all.", name, string.Join(", ", phases), watch.Elapsed.TotalMilliseconds);
}
