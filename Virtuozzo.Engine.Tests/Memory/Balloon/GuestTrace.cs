using System.Globalization;

namespace Virtuozzo.Engine.Tests.Memory.Balloon;

/// <summary>
/// A recorded guest workload (Memory/Traces/*.csv): per sample, the memory the guest uses (stat-total-memory minus
/// stat-available-memory), its page cache and its major-fault counter. The balloon itself is simulated around it by
/// <see cref="GuestSimulator"/>, so the policy's commands feed back into what it sees next.
/// </summary>
internal sealed record GuestTrace(IReadOnlyList<GuestTrace.Row> Rows)
{
    public sealed record Row(double Seconds, long Used, long Cache, long MajorFaults);

    public static GuestTrace Load(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Memory", "Traces", name);
        var rows = File.ReadLines(path)
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith("t,", StringComparison.Ordinal))
            .Select(l => l.Split(','))
            .Select(f => new Row(Double(f[0]), (long)(Double(f[1]) * (1 << 20)), (long)(Double(f[2]) * (1 << 20)), long.Parse(f[3], CultureInfo.InvariantCulture)))
            .ToList();
        return new GuestTrace(rows);
    }

    private static double Double(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
}
