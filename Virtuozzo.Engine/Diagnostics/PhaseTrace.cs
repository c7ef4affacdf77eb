using System.Diagnostics;

namespace Virtuozzo.Engine.Diagnostics;

/// <summary>
/// Where an operation spends its time: each phase's milliseconds, so a slow container start or VM move on a busy host
/// can be taken apart without a profiler. Read as one line (<see cref="Summary"/>, logged at trace or debug level by
/// the caller) rather than one message per phase, so a pipeline of hundreds stays readable.
/// </summary>
public sealed class PhaseTrace
{
    private readonly Stopwatch watch = Stopwatch.StartNew();
    private readonly List<PhaseTime> phases = [];
    private TimeSpan last;

    /// <summary>Ends the phase that ran since the previous mark.</summary>
    public void Mark(string phase)
    {
        var now = watch.Elapsed;
        phases.Add(new PhaseTime(phase, Math.Round((now - last).TotalMilliseconds, 1)));
        last = now;
    }

    public IReadOnlyList<PhaseTime> Phases => phases;

    public TimeSpan Elapsed => watch.Elapsed;

    /// <summary>"phase 12.3, phase 4.0": the phases in order with their milliseconds.</summary>
    public string Summary => string.Join(", ", phases.Select(p => $"{p.Name} {p.Milliseconds:0.0}"));
}
