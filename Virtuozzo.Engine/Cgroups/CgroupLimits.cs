namespace Virtuozzo.Engine.Cgroups;

/// <summary>
/// Limits for one group. A null property means "leave it as it is", so a live change writes only what changed.
/// Sizes are bytes; -1 means unlimited.
/// </summary>
public sealed record CgroupLimits
{
    /// <summary>Hard memory limit, the -MemorySize a VE was given (v1 memory.limit_in_bytes, v2 memory.max).</summary>
    public long? MemorySize { get; init; }

    /// <summary>Memory plus swap (v1 memory.memsw.limit_in_bytes; v2 memory.swap.max gets this minus <see cref="MemorySize"/>).</summary>
    public long? MemorySwapLimit { get; init; }

    /// <summary>Guaranteed memory (v1 memory.soft_limit_in_bytes, v2 memory.low).</summary>
    public long? MemoryLow { get; init; }

    /// <summary>prlctl cpuunits, 8-500000 (v1 cpu.shares = units*1024/1000, v2 cpu.weight = units/10).</summary>
    public int? CpuUnits { get; init; }

    /// <summary>CFS quota per period in microseconds; -1 for no limit.</summary>
    public long? CpuQuotaMicroseconds { get; init; }

    /// <summary>CFS period in microseconds (default 100000).</summary>
    public long? CpuPeriodMicroseconds { get; init; }

    /// <summary>Allowed CPUs in list form ("0,2-3").</summary>
    public string? CpuSet { get; init; }

    /// <summary>Most tasks the group may hold; -1 for no limit.</summary>
    public long? PidsLimit { get; init; }
}
