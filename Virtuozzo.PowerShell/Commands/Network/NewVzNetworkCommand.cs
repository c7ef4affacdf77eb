using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Network;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Creates a virtual network (Bridged, HostOnly or Private) and brings it up.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "VzNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(VirtualNetworkInfo))]
public sealed class NewVzNetworkCommand : VzCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true)]
    public VirtualNetworkType Type { get; set; }

    /// <summary>The bridge that carries the network (default "vzn-" + the name).</summary>
    [Parameter]
    public string? Bridge { get; set; }

    /// <summary>HostOnly: the host's address on the network, in CIDR form.</summary>
    [Parameter]
    public string? HostAddress { get; set; }

    /// <summary>HostOnly: masquerade the network behind the host's other interfaces.</summary>
    [Parameter]
    public SwitchParameter Nat { get; set; }

    /// <summary>HostOnly: lease addresses with dnsmasq.</summary>
    [Parameter]
    public SwitchParameter Dhcp { get; set; }

    /// <summary>HostOnly with -Dhcp: the pool, "first-last" (default .100-.199 of the subnet).</summary>
    [Parameter]
    public string? DhcpRange { get; set; }

    /// <summary>Bridged: the host interface that joins the network's bridge.</summary>
    [Parameter]
    public string? Uplink { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            if (!ShouldProcess(Name, $"Create {Type} network")) return;
            var spec = new VirtualNetworkChanges
            {
                Bridge = Bridge, HostAddress = HostAddress, Nat = Nat.IsPresent ? true : null, Dhcp = Dhcp.IsPresent ? true : null,
                DhcpRange = DhcpRange, Uplink = Uplink,
            };
            var networks = Engine.Networks;
            WriteObject(Run(ct => networks.CreateAsync(Name, Type, spec, ct)));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException) { ThrowVzError(ex, Name); }
        finally { base.EndProcessing(); }
    }
}
