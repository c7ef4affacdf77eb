using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Containers;

/// <summary>The host facts container settings are checked against, read cheaply (no probe).</summary>
public sealed record HostLimits(int CpuCount, long MemoryTotal, double CpuMhz)
{
    public static HostLimits Read() => new(OnlineCpus(), MemInfo.Read().Total, CpuInfo.NominalMhz());

    /// <summary>CPUs the kernel has online ("0-1" in /sys/devices/system/cpu/online): the highest number + 1.</summary>
    private static int OnlineCpus()
    {
        try
        {
            var text = File.ReadAllText("/sys/devices/system/cpu/online").Trim();
            var last = text.Split(',').Last().Split('-').Last();
            return int.Parse(last) + 1;
        }
        catch (Exception ex) when (ex is IOException or FormatException) { return Environment.ProcessorCount; }
    }
}
