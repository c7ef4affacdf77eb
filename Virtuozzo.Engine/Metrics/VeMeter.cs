using System.Runtime.CompilerServices;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// Measure-VzVm and Measure-VzContainer: samples the VEs, waits an interval, samples again and yields one
/// <see cref="VeUsage"/> per VE per interval (once, or until cancelled). A VE that stops (or restarts: a new
/// process) yields its last figures marked Stopped and leaves the stream; the others go on.
/// </summary>
public sealed class VeMeter(VzEngine engine)
{
    /// <summary>A VM's monitor gets this long per sample; one that does not answer costs its disk figures, not the stream.</summary>
    public static readonly TimeSpan MonitorTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The interval in seconds as a TimeSpan; zero, negative, or not a number is a typed error.</summary>
    public static TimeSpan CheckInterval(double seconds)
    {
        if (double.IsNaN(seconds) || seconds <= 0 || seconds > TimeSpan.FromDays(1).TotalSeconds)
            throw new VzInvalidArgumentException("VzInvalidInterval", $"The interval must be more than 0 seconds and at most a day; {seconds} s was given.", seconds, "Interval")
            { RecommendedAction = "Give -Interval in seconds, for example -Interval 1 or -Interval 0.5." };
        return TimeSpan.FromSeconds(seconds);
    }

    public async IAsyncEnumerable<VeUsage> MeasureAsync(IReadOnlyList<Guid> ids, TimeSpan interval, bool continuous,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sampler = new VeSampler(engine);
        var previous = new Dictionary<Guid, VeSample>();
        var last = new Dictionary<Guid, VeUsage>();
        foreach (var id in ids)
            if (Config(id) is { } config && await sampler.SampleAsync(config, MonitorTimeout, cancellationToken) is { Running: true } s)
                previous[id] = s;
        var next = DateTimeOffset.UtcNow;
        while (previous.Count > 0)
        {
            // A steady cadence: a slow pass (a VM's monitor) shortens the next wait rather than drifting the stream.
            next += interval;
            var wait = next - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken);
            else next = DateTimeOffset.UtcNow;
            foreach (var (id, before) in previous.ToList())
            {
                var after = Config(id) is { } config ? await sampler.SampleAsync(config, MonitorTimeout, cancellationToken) : null;
                if (after is not { Running: true } || after.ProcessId != before.ProcessId)
                {
                    previous.Remove(id);
                    yield return (last.TryGetValue(id, out var u) ? u : VeUsageCalculator.Between(before, before)) with { State = "Stopped", Timestamp = DateTimeOffset.UtcNow };
                    continue;
                }
                var usage = VeUsageCalculator.Between(before, after);
                previous[id] = after;
                last[id] = usage;
                yield return usage;
            }
            if (!continuous) break;
        }
    }

    private VeConfig? Config(Guid id) => engine.Store.TryGet(id)?.Config;
}
