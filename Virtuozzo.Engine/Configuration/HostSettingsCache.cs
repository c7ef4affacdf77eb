using Virtuozzo.Engine.Native;

namespace Virtuozzo.Engine.Configuration;

/// <summary>
/// The host settings for a long-running reader (the host service reads them every few seconds, from two loops): parsed
/// again only when the file changed (inode, size and ctime; Set-VzHost writes by renaming a new file), so an unchanged
/// file costs one stat, not a YAML parse. Callers only read the instance they get: it is shared.
/// </summary>
public static class HostSettingsCache
{
    private static readonly object Gate = new();
    private static (string Path, (ulong Inode, long Size, long CTimeNs)? Stamp, HostSettings Settings)? last;

    /// <summary>As <see cref="HostSettings.Load"/> (a corrupt file throws, every time, until it is fixed).</summary>
    public static HostSettings Load()
    {
        var path = HostSettings.FilePath;
        var stamp = LibC.StatIdentity(path);
        lock (Gate)
        {
            if (last is { } hit && hit.Path == path && hit.Stamp == stamp) return hit.Settings;
        }
        var settings = HostSettings.Load();
        lock (Gate) last = (path, stamp, settings);
        return settings;
    }

    /// <summary>As <see cref="HostSettings.TryLoad"/>: null when the file is corrupt.</summary>
    public static HostSettings? TryLoad()
    {
        try { return Load(); }
        catch (Errors.VzConfigCorruptException) { return null; }
    }
}
