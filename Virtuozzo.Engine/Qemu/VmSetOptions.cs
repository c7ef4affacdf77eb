namespace Virtuozzo.Engine.Qemu;

/// <summary>What Set-VzVm changes; a null field is left alone.</summary>
public sealed record VmSetOptions
{
    public int? CpuCount { get; init; }
    /// <summary>A CPU list ("0,2-3"); an empty string removes the pinning.</summary>
    public string? CpuMask { get; init; }
    /// <summary>Percent of one CPU; 0 removes the limit.</summary>
    public int? CpuLimit { get; init; }
    /// <summary>The limit in MHz of the host's CPU (prlctl --cpulimit NNNm); 0 removes the limit. Not with <see cref="CpuLimit"/>.</summary>
    public int? CpuLimitMhz { get; init; }
    public int? CpuUnits { get; init; }
    public long? MemorySize { get; init; }
    public Memory.MemGuarantee? MemGuarantee { get; init; }
    public bool? OnBoot { get; init; }
    public string? Description { get; init; }
}
