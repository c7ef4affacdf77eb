using System.Management.Automation;
using Virtuozzo.Engine.Concurrency;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Starts virtual machines; with -Wait, returns once the guest agent answers.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class StartVzVmCommand : VzVmCmdlet
{
    /// <summary>Wait until the guest agent answers (the guest has booted).</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Seconds to wait with -Wait.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int Timeout { get; set; } = 120;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>How many VMs are worked on at once over a pipeline (default: four per CPU). With -AsJob each VM is its own job.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = WorkThrottle.DefaultLimit;

    /// <summary>Run in the background: returns a job whose output is what the cmdlet would write.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, "Start virtual machine")) return;
        var engine = Engine;
        var (id, wait, timeout) = (record.Id, Wait.IsPresent, TimeSpan.FromSeconds(Timeout));
        if (AsJob)
        {
            RunOrStartJob(true, $"Start-VzVm {record.DisplayName}", (progress, ct) => engine.Vms.StartAsync(id, wait, timeout, progress, ct), write: PassThru);
            return;
        }
        var progress = Progress;
        RunConcurrently(ThrottleLimit, record.DisplayName, ct => engine.Vms.StartAsync(id, wait, timeout, progress, ct), info => { if (PassThru) WriteObject(info); });
    }
}
