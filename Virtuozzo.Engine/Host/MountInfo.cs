using System.Text.RegularExpressions;

namespace Virtuozzo.Engine.Host;

/// <summary>
/// The one reader of <c>/proc/self/mountinfo</c>. A line is
/// <c>&lt;id&gt; &lt;parent&gt; &lt;maj:min&gt; &lt;root&gt; &lt;mount point&gt; &lt;options&gt; [optional...] - &lt;fstype&gt; &lt;source&gt; &lt;super options&gt;</c>;
/// paths are octal-escaped by the kernel (a space is \040) and come back unescaped.
/// </summary>
public static partial class MountInfo
{
    public const string SelfPath = "/proc/self/mountinfo";

    /// <summary>Every mount of this process's mount namespace, in mount order.</summary>
    public static IReadOnlyList<MountEntry> Read(string path = SelfPath) => Parse(File.ReadLines(path)).ToList();

    /// <summary>Parses mountinfo lines; a line without the " - " separator or with too few fields is skipped.</summary>
    public static IEnumerable<MountEntry> Parse(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            var sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0) continue;
            var left = line[..sep].Split(' ');
            var right = line[(sep + 3)..].Split(' ');
            if (left.Length < 5 || right.Length < 3) continue;
            yield return new MountEntry(Unescape(left[4]), right[0], Unescape(right[1]), right[2]);
        }
    }

    /// <summary>Whether something is mounted exactly at <paramref name="path"/>.</summary>
    public static bool IsMountPoint(string path)
    {
        var full = Path.GetFullPath(path).TrimEnd('/');
        return Read().Any(m => m.MountPoint == full);
    }

    /// <summary>Mount points at or below <paramref name="directory"/>.</summary>
    public static IReadOnlyList<string> MountPointsUnder(string directory)
    {
        var prefix = Path.GetFullPath(directory).TrimEnd('/') + "/";
        return Read().Select(m => m.MountPoint).Where(p => (p + "/").StartsWith(prefix, StringComparison.Ordinal)).ToList();
    }

    /// <summary>The device number ("major:minor", field 3) and mount point of every mount, for telling whether a
    /// block device or one of its partitions is mounted whatever name it was mounted by.</summary>
    public static IEnumerable<(string DeviceNumber, string MountPoint)> DeviceMounts(string path = SelfPath)
    {
        if (!File.Exists(path)) yield break;
        foreach (var line in File.ReadLines(path))
        {
            var f = line.Split(' ', 6);
            if (f.Length >= 5) yield return (f[2], Unescape(f[4]));
        }
    }

    [GeneratedRegex(@"\\([0-7]{3})")]
    private static partial Regex OctalEscape();

    private static string Unescape(string s) =>
        s.Contains('\\') ? OctalEscape().Replace(s, m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString()) : s;
}
