using System.Management.Automation;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Changes a virtual machine's CPU, memory and boot settings; live where QEMU allows, otherwise at the next start.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class SetVzVmCommand : VzVmCmdlet
{
    private int? cpuCount, cpuLimit, cpuUnits;
    private long? memorySize;
    private bool? onBoot;

    [Parameter]
    [ValidateRange(1, 255)]
    public int CpuCount { get => cpuCount ?? 0; set => cpuCount = value; }

    /// <summary>Host CPUs the vCPU threads may run on ("0,2-3"); "all" removes the pinning.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CpuMask { get; set; }

    /// <summary>Percent of one host CPU (100 = one CPU); 0 removes the limit.</summary>
    [Parameter]
    [ValidateRange(0, 100000)]
    public int CpuLimit { get => cpuLimit ?? 0; set => cpuLimit = value; }

    [Parameter]
    [ValidateRange(8, 500000)]
    public int CpuUnits { get => cpuUnits ?? 0; set => cpuUnits = value; }

    [Parameter]
    [ValidateRange(32L * 1024 * 1024, 16L * 1024 * 1024 * 1024 * 1024)]
    public long MemorySize { get => memorySize ?? 0; set => memorySize = value; }

    /// <summary>0-100 or Auto (40 %).</summary>
    [Parameter]
    [ValidatePattern(@"^(Auto|\d{1,3})$")]
    public string? MemGuarantee { get; set; }

    [Parameter]
    public bool OnBoot { get => onBoot ?? false; set => onBoot = value; }

    [Parameter]
    public string? Description { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        int? guarantee = null;
        if (MemGuarantee is not null)
        {
            guarantee = MemGuarantee.Equals("Auto", StringComparison.OrdinalIgnoreCase) ? -1 : int.Parse(MemGuarantee, System.Globalization.CultureInfo.InvariantCulture);
            if (guarantee > 100) throw new VzInvalidArgumentException("VzInvalidMemGuarantee", "MemGuarantee must be 0-100 or Auto.", record.DisplayName, "MemGuarantee");
        }
        var options = new VmSetOptions
        {
            CpuCount = cpuCount,
            CpuMask = CpuMask is null ? null : CpuMask.Equals("all", StringComparison.OrdinalIgnoreCase) ? "" : CpuMask,
            CpuLimit = cpuLimit,
            CpuUnits = cpuUnits,
            MemorySize = memorySize,
            MemGuaranteePercent = guarantee,
            OnBoot = onBoot,
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
