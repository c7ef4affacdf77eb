using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Lists the guest's network interfaces with MAC and IP addresses, gateway and DNS servers, as the guest agent reports them.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzVmGuestNetwork", DefaultParameterSetName = NameSet)]
[OutputType(typeof(GuestNetworkInterface))]
public sealed class GetVzVmGuestNetworkCommand : VzVmCmdlet
{
    [Parameter]
    [ValidateRange(1, 3600)]
    public int Timeout { get; set; } = 30;

    protected override void ProcessVm(VeRecord record)
    {
        var engine = Engine;
        foreach (var i in Run(ct => engine.Vms.Guest.GetNetworkAsync(record.Id, TimeSpan.FromSeconds(Timeout), ct))) WriteObject(i);
    }
}
