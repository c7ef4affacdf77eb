using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Shuts virtual machines down gracefully and starts them again.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Restart, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class RestartVzVmCommand : VzVmCmdlet
{
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Seconds for the shutdown and, with -Wait, for the agent to answer again.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int Timeout { get; set; } = 120;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, "Restart virtual machine")) return;
        var engine = Engine;
        var progress = Progress;
        var info = Run(ct => engine.Vms.RestartAsync(record.Id, Wait, TimeSpan.FromSeconds(Timeout), progress, ct));
        if (PassThru) WriteObject(info);
    }
}
