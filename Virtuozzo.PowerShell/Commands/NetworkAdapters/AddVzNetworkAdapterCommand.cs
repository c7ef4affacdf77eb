using System.Management.Automation;
using Virtuozzo.Engine.Network.Adapters;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Adds a network adapter on a virtual network to a container or VM; hot-plugged when the VE runs.</para>
/// </summary>
[Cmdlet(VerbsCommon.Add, "VzNetworkAdapter", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(NetworkAdapterInfo))]
public sealed class AddVzNetworkAdapterCommand : NetworkAdapterCmdlet
{
    /// <summary>The VE's name; wildcards allowed.</summary>
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.VeNameCompleter))]
    [SupportsWildcards]
    public string[]? VeName { get; set; }

    /// <summary>The virtual network (Get-VzNetwork) the adapter joins.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Network { get; set; } = "";

    /// <summary>The adapter's name (a container's interface name inside it); the first free ethN when left out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>Unicast MAC address; generated (locally administered, unique on the host) when left out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MacAddress { get; set; }

    /// <summary>Containers: addresses in CIDR form set on the interface inside.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? IpAddress { get; set; }

    /// <summary>Link state: $false adds it with the cable pulled. Default $true.</summary>
    [Parameter]
    public bool Connected { get; set; } = true;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var spec = new NetworkAdapterChanges { Network = Network, MacAddress = MacAddress, IpAddresses = IpAddress, Connected = Connected };
        foreach (var ve in SelectVes(VeName))
        {
            ForItem(ve.DisplayName, () =>
            {
                if (!ShouldProcess(ve.DisplayName, $"Add a network adapter{(Name is null ? "" : $" '{Name}'")} on network '{Network}'")) return;
                var adapters = Engine.NetworkAdapters;
                var info = Run(ct => adapters.AddAsync(ve.Id, Name, spec, ct));
                if (PassThru) WriteObject(info);
            });
        }
    }
}
