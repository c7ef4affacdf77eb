using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Sets a running guest's addresses (static or DHCP), default gateway, DNS servers and host name through the guest agent.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzVmGuestNetwork", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(GuestNetworkInterface))]
public sealed class SetVzVmGuestNetworkCommand : VzVmCmdlet
{
    /// <summary>The guest interface, as Get-VzVmGuestNetwork names it (eth0).</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? InterfaceName { get; set; }

    /// <summary>Addresses in CIDR form; they replace the interface's addresses.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[] IPAddress { get; set; } = [];

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Gateway { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[] Nameserver { get; set; } = [];

    /// <summary>Get the address from a DHCP server instead.</summary>
    [Parameter]
    public SwitchParameter Dhcp { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? HostName { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int Timeout { get; set; } = 60;

    /// <summary>Return the guest's interfaces as Get-VzVmGuestNetwork does.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        var settings = new GuestNetworkSettings
        {
            InterfaceName = InterfaceName, IPAddress = IPAddress, Gateway = Gateway, Nameserver = Nameserver, Dhcp = Dhcp, HostName = HostName,
        };
        if (!ShouldProcess(record.DisplayName, "Set the guest network" + (InterfaceName is null ? "" : $" of {InterfaceName}"))) return;
        var engine = Engine;
        var timeout = TimeSpan.FromSeconds(Timeout);
        Run(ct => engine.Vms.Guest.SetNetworkAsync(record.Id, settings, timeout, ct));
        if (PassThru)
            foreach (var i in Run(ct => engine.Vms.Guest.GetNetworkAsync(record.Id, timeout, ct))) WriteObject(i);
    }
}
