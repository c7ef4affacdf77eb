using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// The two figures a sample needs from a group's CPU and memory controllers, and only those: CPU time
/// (cpuacct.usage on v1, cpu.stat usage_usec on v2) and the memory charge (memory.usage_in_bytes, memory.current).
/// A scrape reads them for every running VE, so it reads two small files rather than the full <see cref="CgroupStats"/>.
/// </summary>
public static class CgroupUsageReader
{
    /// <summary>Null when the group is gone (the VE stopped).</summary>
    public static (TimeSpan CpuTime, long MemoryCurrent)? Read(ICgroupBackend backend, string path)
    {
        if (backend.Mode == CgroupMode.V2)
        {
            if (backend.HostPath("memory", path) is not { } dir || SmallFile.Read(Path.Combine(dir, "memory.current")) is not { } mem) return null;
            var usec = SmallFile.Keyed(SmallFile.Read(Path.Combine(dir, "cpu.stat")), "usage_usec");
            return (TimeSpan.FromTicks(usec * 10), SmallFile.Long(mem));
        }
        if (backend.HostPath("memory", path) is not { } memDir || SmallFile.Read(Path.Combine(memDir, "memory.usage_in_bytes")) is not { } usage) return null;
        var ns = backend.HostPath("cpuacct", path) is { } acct ? SmallFile.Long(SmallFile.Read(Path.Combine(acct, "cpuacct.usage"))) : 0;
        return (TimeSpan.FromTicks(ns / 100), SmallFile.Long(usage));
    }
}

/// <summary>Reads of the small kernel files the sampler uses (a few dozen bytes each): no large buffer per read.</summary>
internal static class SmallFile
{
    public static string? Read(string path)
    {
        try { return File.ReadAllText(path); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        catch (IOException) { return null; } // the group or interface went away while reading
    }

    public static long Long(string? text) => text is not null && long.TryParse(text.Trim(), out var v) && v >= 0 ? v : 0;

    public static long Keyed(string? text, string key)
    {
        foreach (var line in (text ?? "").Split('\n'))
        {
            var sp = line.IndexOf(' ');
            if (sp > 0 && line.AsSpan(0, sp).SequenceEqual(key) && long.TryParse(line.AsSpan(sp + 1).Trim(), out var v)) return v;
        }
        return 0;
    }
}
