using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Network;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Changes a virtual network's host address, NAT, DHCP or uplink; a network that is up is re-plumbed at once.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VirtualNetworkInfo))]
public sealed class SetVzNetworkCommand : VzCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    [Parameter]
    public string? HostAddress { get; set; }

    [Parameter]
    public bool? Nat { get; set; }

    [Parameter]
    public bool? Dhcp { get; set; }

    [Parameter]
    public string? DhcpRange { get; set; }

    [Parameter]
    public string? Uplink { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        ForItem(Name, () =>
        {
            if (!ShouldProcess(Name, "Change network")) return;
            var changes = new VirtualNetworkChanges { HostAddress = HostAddress, Nat = Nat, Dhcp = Dhcp, DhcpRange = DhcpRange, Uplink = Uplink };
            var networks = Engine.Networks;
            var result = Run(ct => networks.SetAsync(Name, changes, ct));
            if (PassThru) WriteObject(result);
        });
    }
}
