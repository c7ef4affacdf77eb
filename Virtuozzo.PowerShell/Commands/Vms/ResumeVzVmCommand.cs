using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Lets paused virtual machines run again.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Resume, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class ResumeVzVmCommand : VzVmCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, "Resume virtual machine")) return;
        var engine = Engine;
        var info = Run(ct => engine.Vms.ResumeAsync(record.Id, ct));
        if (PassThru) WriteObject(info);
    }
}
