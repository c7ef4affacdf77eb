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
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, "Pause virtual machine")) return;
        var engine = Engine;
        var info = Run(ct => engine.Vms.SuspendAsync(record.Id, ct));
        if (PassThru) WriteObject(info);
    }
}
