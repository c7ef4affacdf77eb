using System.Management.Automation;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Deletes virtual machines with their disks and runtime files; -Force powers a running one off first.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NameSet)]
[OutputType(typeof(Virtuozzo.Engine.Qemu.VmInfo))]
public sealed class RemoveVzVmCommand : VzVmCmdlet
{
    /// <summary>Remove without asking, powering a running VM off first (prlctl delete --force).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Return the removed VM as it was just before removal (Hyper-V's convention).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcessUnlessForced(Force, record.DisplayName, "Remove virtual machine and its disks")) return;
        var engine = Engine;
        var before = PassThru ? engine.Vms.Describe(record) : null;
        Run(ct => engine.Vms.RemoveAsync(record.Id, Force, ct));
        if (before is not null) WriteObject(before with { StateValue = Virtuozzo.Engine.Qemu.VmState.Stopped, ProcessId = null });
    }
}
