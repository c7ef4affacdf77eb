namespace Virtuozzo.Engine.Host;

/// <summary>The host's /proc/meminfo totals, in bytes.</summary>
public readonly record struct MemInfo(long Total, long Available, long Free)
{
    public static MemInfo Read(string path = "/proc/meminfo")
    {
        long total = 0, available = 0, free = 0;
        foreach (var line in File.ReadLines(path))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !long.TryParse(parts[1], out var kb)) continue;
            switch (parts[0])
            {
                case "MemTotal:": total = kb * 1024; break;
                case "MemAvailable:": available = kb * 1024; break;
                case "MemFree:": free = kb * 1024; break;
            }
        }
        return new MemInfo(total, available, free);
    }
}
