using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Memory;
using Virtuozzo.Engine.Qemu;

namespace Virtuozzo.Commands;

/// <summary>
/// The VM settings New-VzVm and Set-VzVm share, declared once: both cmdlets hand an instance of this class to
/// PowerShell as their dynamic parameters, so help, completion and Get-Command see the same parameters on both.
/// Each parameter is named like the VmInfo property that shows it and binds from the pipeline by that name, also from
/// text (Import-Csv): a VM exported to CSV and read back sets what it had. Null means "not given": New-VzVm uses the
/// default, Set-VzVm leaves the setting alone.
/// </summary>
public sealed class VmSettingsParameters
{
    /// <summary>1 to the host's CPU count; checked by the engine (VzInvalidCpuCount), as for containers.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText][ValidateSettingRange(1, int.MaxValue)] public int? CpuCount { get; set; }

    /// <summary>Host CPUs the vCPU threads may run on ("0,2-3"); "all" removes the pinning.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText] public string? CpuMask { get; set; }

    /// <summary>Percent of one host CPU (100 = one CPU); 0 removes the limit.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText][ValidateSettingRange(0, 100000)] public int? CpuLimit { get; set; }

    /// <summary>The limit in MHz of the host's CPU (Get-VzHost's CpuMhz), as prlctl --cpulimit NNNm; 0 removes the limit.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText][ValidateSettingRange(0, int.MaxValue)] public int? CpuLimitMhz { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText][ValidateSettingRange(8, 500000)] public int? CpuUnits { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText][ValidateSettingRange(32L * 1024 * 1024, 16L * 1024 * 1024 * 1024 * 1024)]
    public long? MemorySize { get; set; }

    /// <summary>Auto (the VM default, 40 %) or 0-100; checked by the engine (VzInvalidMemGuarantee).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText] public MemGuarantee? MemGuarantee { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)][SettingText(Boolean = true)] public bool? OnBoot { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)] public string? Description { get; set; }

    /// <summary>The settings given, as Set-VzVm changes ("all" in CpuMask removes the pinning).</summary>
    public VmSetOptions ToSetOptions() => new()
    {
        CpuCount = CpuCount,
        CpuMask = CpuMask is null ? null : CpuMask.Equals("all", StringComparison.OrdinalIgnoreCase) ? "" : CpuMask,
        CpuLimit = CpuLimit,
        CpuLimitMhz = CpuLimitMhz,
        CpuUnits = CpuUnits,
        MemorySize = MemorySize,
        MemGuarantee = MemGuarantee,
        OnBoot = OnBoot,
        Description = Description,
    };
}
