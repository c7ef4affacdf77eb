using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Reads what the guest agent reports: agent version, OS, host name, time zone, vCPUs, disks.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzVmGuestInfo", DefaultParameterSetName = NameSet)]
[OutputType(typeof(GuestInfo))]
public sealed class GetVzVmGuestInfoCommand : VzVmCmdlet
{
    [Parameter]
    [ValidateRange(1, 3600)]
    public int Timeout { get; set; } = 30;

    protected override void ProcessVm(VeRecord record)
    {
        var engine = Engine;
        WriteObject(Run(ct => engine.Vms.Guest.GetInfoAsync(record.Id, TimeSpan.FromSeconds(Timeout), ct)));
    }
}
