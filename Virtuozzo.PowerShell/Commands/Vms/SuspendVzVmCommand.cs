using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Pauses the vCPUs of running virtual machines (memory and devices stay as they are).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Suspend, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class SuspendVzVmCommand : VzVmCmdlet
{
    /// <summary>Save memory and device state to the VM folder and end QEMU (suspend to disk).</summary>
    [Parameter]
    public SwitchParameter SaveState { get; set; }

    /// <summary>Seconds the save may take with -SaveState.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int Timeout { get; set; } = 300;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, SaveState ? "Save the virtual machine's state to disk and stop it" : "Pause virtual machine")) return;
        var engine = Engine;
        var info = Run(ct => engine.Vms.SuspendAsync(record.Id, SaveState, TimeSpan.FromSeconds(Timeout), ct));
        if (PassThru) WriteObject(info);
    }
}
