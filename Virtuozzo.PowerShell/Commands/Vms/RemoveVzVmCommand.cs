using System.Management.Automation;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Deletes stopped virtual machines with their disks and runtime files.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NameSet)]
[OutputType(typeof(void))]
public sealed class RemoveVzVmCommand : VzVmCmdlet
{
    /// <summary>Power the VM off first when it runs (otherwise a running VM is an error).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, "Remove virtual machine and its disks")) return;
        var engine = Engine;
        Run(ct => engine.Vms.RemoveAsync(record.Id, Force, ct));
    }
}
