using System.Management.Automation;
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
public sealed class SetVzVmCommand : VzVmCmdlet, IDynamicParameters
{
    private readonly VmSettingsParameters settings = new();

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

    /// <summary>A new Windows SID (prlctl --changesid): answered with VzChangeSidNotSupported naming the guest OS.</summary>
    [Parameter]
    public SwitchParameter ChangeSid { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The settings shared with New-VzVm (<see cref="VmSettingsParameters"/>).</summary>
    public object GetDynamicParameters() => settings;

    protected override void ProcessVm(VeRecord record)
    {
        var options = settings.ToSetOptions();
        var automation = new VeAutomationChanges
        {
            BootOrder = BootOrder, BootDelay = BootDelay, AutoStop = AutoStop, AutoBalloon = AutoBalloon, MemMerge = MemMerge, MemHotplug = MemHotplug,
        };
        if (!ShouldProcess(record.DisplayName, "Change virtual machine settings")) return;
        var engine = Engine;
        // Asked first: its answer is an error, and then nothing else of this call changes.
        if (ChangeSid) Run(ct => engine.Vms.Guest.ChangeSidAsync(record.Id, TimeSpan.FromSeconds(30), ct));
        if (!automation.IsEmpty) Run(() => engine.Vms.SetAutomation(record.Id, automation, CancellationToken));
        if (MemMerge is not null && Run(() => engine.Vms.Describe(engine.Store.TryGet(record.Id)!)).StateValue != VmState.Stopped)
            WriteWarning($"{record.DisplayName}: MemMerge applies at the next start of the VM.");
        var result = Run(ct => engine.Vms.SetAsync(record.Id, options, ct));
        foreach (var p in result.Pending) WriteWarning($"{record.DisplayName}: {p} is pending; it applies at the next start of the VM.");
        foreach (var n in result.Notes) WriteVerbose($"{record.DisplayName}: {n}");
        if (PassThru) WriteObject(result.Vm);
    }
}
