using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// Refuses to delete a folder that still has something mounted inside: a recursive delete would walk into
/// a bind-mounted root or a loop-mounted image and destroy data that is not ours.
/// </summary>
public static class MountGuard
{
    public static IReadOnlyList<string> MountsUnder(string directory)
    {
        var prefix = Path.GetFullPath(directory).TrimEnd('/') + "/";
        var result = new List<string>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            // Field 5 is the mount point; spaces and such are octal-escaped (\040).
            var fields = line.Split(' ');
            if (fields.Length < 5) continue;
            var mountPoint = Unescape(fields[4]);
            if ((mountPoint + "/").StartsWith(prefix, StringComparison.Ordinal)) result.Add(mountPoint);
        }
        return result;
    }

    public static void ThrowIfAnythingMountedUnder(string directory, object target)
    {
        var mounts = MountsUnder(directory);
        if (mounts.Count > 0)
            throw new VzInvalidStateException("VzVeStillMounted",
                $"'{directory}' still has {mounts.Count} mount(s) inside ({string.Join(", ", mounts.Take(3))}); it was not deleted.", target)
            { RecommendedAction = "Stop the VE first, or unmount those paths, then remove it again." };
    }

    private static string Unescape(string s) =>
        s.Contains('\\') ? System.Text.RegularExpressions.Regex.Replace(s, @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString()) : s;
}
