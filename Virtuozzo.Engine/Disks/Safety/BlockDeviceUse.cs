namespace Virtuozzo.Engine.Disks.Safety;

/// <summary>
/// Whether a host block device is busy: mounted (itself or one of its partitions), held by device-mapper, MD or
/// LVM (sysfs holders), or active swap. Reads /sys, /proc/self/mountinfo and /proc/swaps; never opens the device.
/// </summary>
public static class BlockDeviceUse
{
    /// <summary>Why the device must not be used as a disk image, or null when it is free.</summary>
    public static string? Busy(FileNode device, string sysRoot = "/sys", string procRoot = "/proc")
    {
        var sysDir = Path.Combine(sysRoot, "dev", "block", device.DeviceNumber);
        if (!Directory.Exists(sysDir)) return null;
        var name = Path.GetFileName(new DirectoryInfo(sysDir).ResolveLinkTarget(true)?.FullName ?? sysDir);
        // The device and each of its partitions (subfolders with a "partition" file), as name and major:minor.
        var parts = new List<(string Name, string Dev, string Dir)> { (name, device.DeviceNumber, sysDir) };
        foreach (var sub in SafeList(() => Directory.GetDirectories(sysDir)))
            if (File.Exists(Path.Combine(sub, "partition")) && ReadTrimmed(Path.Combine(sub, "dev")) is { } dev)
                parts.Add((Path.GetFileName(sub), dev, sub));

        var mounts = Mounts(Path.Combine(procRoot, "self", "mountinfo"));
        foreach (var p in parts)
            if (mounts.TryGetValue(p.Dev, out var mountPoint))
                return p.Name == name ? $"a block device mounted on {mountPoint}" : $"a block device whose partition {p.Name} is mounted on {mountPoint}";
        foreach (var p in parts)
        {
            var holders = SafeList(() => Directory.GetFileSystemEntries(Path.Combine(p.Dir, "holders")));
            if (holders.Length > 0)
                return $"a block device in use by {string.Join(", ", holders.Select(Path.GetFileName))} (device-mapper, LVM or RAID)";
        }
        var devs = parts.Select(p => p.Dev).ToHashSet(StringComparer.Ordinal);
        foreach (var swap in Swaps(Path.Combine(procRoot, "swaps")))
        {
            var node = FileNode.Of(swap);
            if (node.Kind == FileNodeKind.BlockDevice && devs.Contains(node.DeviceNumber)) return $"a block device in use as swap ({swap})";
        }
        return null;
    }

    /// <summary>The size in bytes sysfs gives (in 512-byte sectors, whatever the logical block size).</summary>
    public static long Size(FileNode device, string sysRoot = "/sys") =>
        ReadTrimmed(Path.Combine(sysRoot, "dev", "block", device.DeviceNumber, "size")) is { } s && long.TryParse(s, out var sectors) ? sectors * 512 : 0;

    /// <summary>major:minor of every mounted device and one of its mount points.</summary>
    internal static Dictionary<string, string> Mounts(string mountinfo)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (dev, mountPoint) in Host.MountInfo.DeviceMounts(mountinfo)) result.TryAdd(dev, mountPoint);
        return result;
    }

    private static IEnumerable<string> Swaps(string swaps)
    {
        if (!File.Exists(swaps)) yield break;
        foreach (var line in File.ReadLines(swaps).Skip(1))
        {
            var first = line.Split([' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            if (first is not null) yield return first.Replace("\\040", " ", StringComparison.Ordinal);
        }
    }

    private static string? ReadTrimmed(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static string[] SafeList(Func<string[]> list)
    {
        try { return list(); }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }
}
