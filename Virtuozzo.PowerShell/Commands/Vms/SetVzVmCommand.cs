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

    /// <summary>OnBoot VMs start in ascending BootOrder when the host service starts (prlctl --autostart order).</summary>
    [Parameter]
    [ValidateRange(0, VeAutomationChanges.MaxBootOrder)]
    public int? BootOrder { get; set; }

    /// <summary>Seconds the host service waits before starting this VM at boot (prlctl --autostart-delay).</summary>
    [Parameter]
    [ValidateRange(0, VeAutomationChanges.MaxBootDelay)]
    public int? BootDelay { get; set; }

    /// <summary>What the host service does with the running VM when it stops: None, Stop or Suspend (to disk).</summary>
    [Parameter]
    public VeAutoStop? AutoStop { get; set; }

    /// <summary>Whether the host service's memory manager balloons this VM (it never goes below the guarantee).</summary>
    [Parameter]
    public bool? AutoBalloon { get; set; }

    /// <summary>Whether QEMU offers the guest's RAM to KSM (applies at the next start).</summary>
    [Parameter]
    public bool? MemMerge { get; set; }

    /// <summary>Memory hotplug (DIMM slots); switchable on a stopped VM of at least 1 GB.</summary>
    [Parameter]
    public bool? MemHotplug { get; set; }

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
        var automation = new VeAutomationChanges
        {
            BootOrder = BootOrder, BootDelay = BootDelay, AutoStop = AutoStop, AutoBalloon = AutoBalloon, MemMerge = MemMerge, MemHotplug = MemHotplug,
        };
        if (!ShouldProcess(record.DisplayName, "Change virtual machine settings")) return;
        var engine = Engine;
        if (!automation.IsEmpty) Run(() => engine.Vms.SetAutomation(record.Id, automation, CancellationToken));
        if (MemMerge is not null && Run(() => engine.Vms.Describe(engine.Store.TryGet(record.Id)!)).State != VmState.Stopped)
            WriteWarning($"{record.DisplayName}: MemMerge applies at the next start of the VM.");
        var result = Run(ct => engine.Vms.SetAsync(record.Id, options, ct));
        foreach (var p in result.Pending) WriteWarning($"{record.DisplayName}: {p} is pending; it applies at the next start of the VM.");
        foreach (var n in result.Notes) WriteVerbose($"{record.DisplayName}: {n}");
        if (PassThru) WriteObject(result.Vm);
    }
}
