using System.Management.Automation;
using Virtuozzo.Engine.Concurrency;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Shuts virtual machines down through the guest agent or ACPI, or powers them off with -Kill.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class StopVzVmCommand : VzVmCmdlet
{
    /// <summary>Power off at once (QEMU is terminated), without asking the guest.</summary>
    [Parameter]
    public SwitchParameter Kill { get; set; }

    /// <summary>Only press the ACPI power button (do not use the guest agent).</summary>
    [Parameter]
    public SwitchParameter Acpi { get; set; }

    /// <summary>Seconds to wait for the guest to power off.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int Timeout { get; set; } = 60;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>How many VMs are worked on at once over a pipeline (default: four per CPU). Waiting for a guest to power off holds no slot.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = WorkThrottle.DefaultLimit;


    protected override void ProcessVm(VeRecord record)
    {
        var mode = Kill ? VmStopMode.Kill : Acpi ? VmStopMode.Acpi : VmStopMode.Graceful;
        if (!ShouldProcess(record.DisplayName, Kill ? "Power off virtual machine" : "Shut down virtual machine")) return;
        var engine = Engine;
        var progress = Progress;
        var (id, timeout) = (record.Id, TimeSpan.FromSeconds(Timeout));
        RunConcurrently(ThrottleLimit, record.DisplayName, ct => engine.Vms.StopAsync(id, mode, timeout, progress, ct), info => { if (PassThru) WriteObject(info); });
    }
}
