using System.Globalization;
using Virtuozzo.Engine.Memory.Balloon;

namespace Virtuozzo.Engine.Service;

/// <summary>
/// An opt-in per-sample record of the memory manager (VZ_HOSTSERVICE_BALLOON_TRACE=&lt;file&gt;): one CSV line per VM
/// sample with what the policy saw (actual, the guest's stats and their age) and what it decided and sent. The
/// benchmark reads it for its per-VM report, and a line set of it is what the policy's trace tests replay.
/// </summary>
public sealed class BalloonTraceWriter
{
    public const string Variable = "VZ_HOSTSERVICE_BALLOON_TRACE";
    public const string Header = "time,vm,size,guarantee,actual,stat_total,stat_available,stat_updated,reason,desired,working_set,target_sent,last_target";
    private readonly string path;

    private BalloonTraceWriter(string path)
    {
        this.path = path;
        if (!File.Exists(path)) File.WriteAllText(path, Header + "\n");
    }

    /// <summary>The writer the environment asks for, or null (the default: no trace).</summary>
    public static BalloonTraceWriter? FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } p ? new BalloonTraceWriter(p) : null;

    public void Write(string vm, BalloonSample s, BalloonDecision d, long? sent, long? lastTarget)
    {
        static string Mi(long? v) => v is { } x ? (x / (double)BalloonPolicy.MiB).ToString("0.#", CultureInfo.InvariantCulture) : "";
        var line = string.Join(',',
            s.Time.ToString("O", CultureInfo.InvariantCulture), vm, Mi(s.MemorySize), Mi(s.Guarantee), Mi(s.Actual),
            Mi(s.Guest?.Total), Mi(s.Guest?.Available), s.Guest?.UpdatedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) ?? "",
            d.Reason, Mi(d.DesiredTarget), Mi(d.WorkingSet), Mi(sent), Mi(lastTarget));
        try { File.AppendAllText(path, line + "\n"); }
        catch (IOException) { /* a trace is a diagnostic: never a reason to skip a balloon decision */ }
    }
}
