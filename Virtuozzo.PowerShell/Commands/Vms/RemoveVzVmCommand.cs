using System.Management.Automation;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Deletes virtual machines with their disks and runtime files; -Force powers a running one off first.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NameSet)]
[OutputType(typeof(void))]
public sealed class RemoveVzVmCommand : VzVmCmdlet
{
    /// <summary>Remove without asking, powering a running VM off first (prlctl delete --force).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcessUnlessForced(Force, record.DisplayName, "Remove virtual machine and its disks")) return;
        var engine = Engine;
        Run(ct => engine.Vms.RemoveAsync(record.Id, Force, ct));
    }
}
