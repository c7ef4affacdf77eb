using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// The <c>.creating</c> file in a VE folder while the VE is being made. It names the creating process by pid and
/// start time, so a listing can tell "being created now" from "left half-made by a process that died".
/// </summary>
internal static class CreationMarker
{
    public const string FileName = ".creating";

    public static void Write(string veDirectory)
    {
        var self = ProcStat.Read(Environment.ProcessId);
        AtomicFile.WriteAllText(Path.Combine(veDirectory, FileName), $"{Environment.ProcessId} {self?.StartTimeTicks ?? 0}\n");
    }

    public static void Clear(string veDirectory)
    {
        File.Delete(Path.Combine(veDirectory, FileName));
        AtomicFile.SyncDirectory(veDirectory);
    }

    /// <summary>Null when there is no marker; otherwise whether its creator still runs.</summary>
    public static VeRegistrationState? Inspect(string veDirectory)
    {
        var path = Path.Combine(veDirectory, FileName);
        // Almost every VE has no marker, and every listing asks each VE: a stat is far cheaper than a thrown
        // FileNotFoundException (the race with a creator removing it is still caught below).
        if (!File.Exists(path)) return null;
        string text;
        try { text = File.ReadAllText(path); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && int.TryParse(parts[0], out var pid) && ulong.TryParse(parts[1], out var start)
            && ProcStat.IsSameLiveProcess(pid, start))
            return VeRegistrationState.Creating;
        return VeRegistrationState.Incomplete;
    }
}
