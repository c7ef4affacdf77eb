using System.Management.Automation;
using Virtuozzo.Engine.Network.Adapters;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Changes an added network adapter: its network, MAC, addresses (containers) or link state, live on a running VE.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzNetworkAdapter", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(NetworkAdapterInfo))]
public sealed class SetVzNetworkAdapterCommand : NetworkAdapterCmdlet
{
    /// <summary>The VE's name; wildcards allowed.</summary>
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.VeNameCompleter))]
    [SupportsWildcards]
    public string[]? VeName { get; set; }

    /// <summary>The adapter's name (eth1...); binds the Name of piped NetworkAdapterInfo objects.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>Another virtual network to join; a running VE's interface moves to its bridge at once.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Network { get; set; }

    /// <summary>A new unicast MAC address (only while the VE is stopped).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MacAddress { get; set; }

    /// <summary>Containers: the new complete address list, in CIDR form; an empty array removes them all.</summary>
    [Parameter]
    [AllowEmptyCollection]
    public string[]? IpAddress { get; set; }

    /// <summary>Link state: $false pulls the cable (traffic stops), $true plugs it back.</summary>
    [Parameter]
    public bool? Connected { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var changes = new NetworkAdapterChanges { Network = Network, MacAddress = MacAddress, IpAddresses = IpAddress, Connected = Connected };
        foreach (var ve in SelectVes(VeName))
        {
            ForItem(ve.DisplayName, () =>
            {
                if (!ShouldProcess($"{ve.DisplayName}:{Name}", "Change network adapter")) return;
                var adapters = Engine.NetworkAdapters;
                var info = Run(ct => adapters.SetAsync(ve.Id, Name, changes, ct));
                if (PassThru) WriteObject(info);
            });
        }
    }
}
