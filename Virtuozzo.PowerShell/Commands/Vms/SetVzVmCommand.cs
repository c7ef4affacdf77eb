using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Memory;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Changes a virtual machine's CPU, memory and boot settings; live where QEMU allows, otherwise at the next start.</para>
/// </summary>
/// <remarks>
/// Each setting is named like the VmInfo property that shows it and binds from the pipeline by that name, also from
/// text (Import-Csv), so a VM exported to CSV and read back sets what it had; an empty value leaves a setting alone.
/// </remarks>
[Cmdlet(VerbsCommon.Set, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class SetVzVmCommand : VzVmCmdlet
{
    /// <summary>1 to the host's CPU count; checked by the engine (VzInvalidCpuCount), as for containers.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SettingText]
    [ValidateSettingRange(1, int.MaxValue)]
    public int? CpuCount { get; set; }

    /// <summary>Host CPUs the vCPU threads may run on ("0,2-3"); "all" removes the pinning.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SettingText]
    public string? CpuMask { get; set; }

    /// <summary>Percent of one host CPU (100 = one CPU); 0 removes the limit.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SettingText]
    [ValidateSettingRange(0, 100000)]
    public int? CpuLimit { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SettingText]
    [ValidateSettingRange(8, 500000)]
    public int? CpuUnits { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SettingText]
    [ValidateSettingRange(32L * 1024 * 1024, 16L * 1024 * 1024 * 1024 * 1024)]
    public long? MemorySize { get; set; }

    /// <summary>Auto (the VM default, 40 %) or 0-100; checked by the engine (VzInvalidMemGuarantee).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SettingText]
    public MemGuarantee? MemGuarantee { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SettingText(Boolean = true)]
    public bool? OnBoot { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Description { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        var options = new VmSetOptions
        {
            CpuCount = CpuCount,
            CpuMask = CpuMask is null ? null : CpuMask.Equals("all", StringComparison.OrdinalIgnoreCase) ? "" : CpuMask,
            CpuLimit = CpuLimit,
            CpuUnits = CpuUnits,
            MemorySize = MemorySize,
            MemGuarantee = MemGuarantee,
            OnBoot = OnBoot,
            Description = Description,
        };
        if (!ShouldProcess(record.DisplayName, "Change virtual machine settings")) return;
        var engine = Engine;
        var result = Run(ct => engine.Vms.SetAsync(record.Id, options, ct));
        foreach (var p in result.Pending) WriteWarning($"{record.DisplayName}: {p} is pending; it applies at the next start of the VM.");
        foreach (var n in result.Notes) WriteVerbose($"{record.DisplayName}: {n}");
        if (PassThru) WriteObject(result.Vm);
    }
}
