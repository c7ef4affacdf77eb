using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Removes a virtual network no VE uses: stops its DHCP, releases its uplink, deletes its bridge and its nft rules.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(Virtuozzo.Engine.Network.VirtualNetworkInfo))]
public sealed class RemoveVzNetworkCommand : VzCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public string[] Name { get; set; } = [];

    /// <summary>Writes the network as it was before the removal.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
            ForItem(name, () =>
            {
                if (!ShouldProcess(name, "Remove network")) return;
                var networks = Engine.Networks;
                var before = PassThru ? Run(() => networks.Get(name)) : null;
                Run(ct => networks.RemoveAsync(name, ct));
                if (before is not null) WriteObject(before);
            });
    }
}
