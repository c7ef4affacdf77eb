namespace Virtuozzo.Engine.Progress;

/// <summary>
/// Maps one step's 0-100 % onto a slice of a larger operation's bar, synchronously (System.Progress would post
/// reports to the thread pool, out of order and after the step ended).
/// </summary>
public sealed class ScaledProgress(IProgress<VzProgress> outer, int from, int to) : IProgress<VzProgress>
{
    public void Report(VzProgress value) =>
        outer.Report(value with { Percent = value.Percent is { } n ? from + (to - from) * Math.Clamp(n, 0, 100) / 100 : null });
}
