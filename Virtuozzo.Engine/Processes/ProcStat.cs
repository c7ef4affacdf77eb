namespace Virtuozzo.Engine.Processes;

/// <summary>
/// The fields of <c>/proc/&lt;pid&gt;/stat</c> the engine relies on. Liveness is decided from the state letter,
/// not from kill(pid, 0): on this host a dead daemonized QEMU stays a zombie until PID 1 reaps it, and
/// the start time tells a recycled pid from the process we started.
/// </summary>
public sealed record ProcStat(int Pid, string Command, char State, int ParentPid, ulong StartTimeTicks)
{
    /// <summary>Alive and not a zombie (Z) or dead (X).</summary>
    public bool IsAlive => State is not ('Z' or 'X' or 'x');

    public static ProcStat? Read(int pid)
    {
        string? text;
        try { text = Cgroups.CgroupFile.Read($"/proc/{pid}/stat"); } // one small read; listings ask once per running VE
        catch (UnauthorizedAccessException) { return null; }
        return text is null ? null : Parse(text);
    }

    /// <summary>Parses one stat line. The command sits in parentheses and may itself contain ')' and spaces.</summary>
    public static ProcStat? Parse(string text)
    {
        var open = text.IndexOf('(');
        var close = text.LastIndexOf(')');
        if (open < 1 || close < open || close + 2 >= text.Length) return null;
        if (!int.TryParse(text.AsSpan(0, open).Trim(), out var pid)) return null;
        var rest = text[(close + 2)..].Split(' ');
        // rest[0] is field 3 (state); starttime is field 22, so rest[19].
        if (rest.Length < 20 || rest[0].Length != 1) return null;
        if (!int.TryParse(rest[1], out var ppid) || !ulong.TryParse(rest[19], out var start)) return null;
        return new ProcStat(pid, text[(open + 1)..close], rest[0][0], ppid, start);
    }

    /// <summary>True when <paramref name="pid"/> is alive and started at <paramref name="startTimeTicks"/>.</summary>
    public static bool IsSameLiveProcess(int pid, ulong startTimeTicks) =>
        Read(pid) is { IsAlive: true } s && s.StartTimeTicks == startTimeTicks;
}
