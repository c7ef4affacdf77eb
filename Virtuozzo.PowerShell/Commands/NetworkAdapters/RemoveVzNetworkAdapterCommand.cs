using System.Management.Automation;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Removes an added network adapter from a container or VM; hot-unplugged when the VE runs.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzNetworkAdapter", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NameSet)]
[OutputType(typeof(Virtuozzo.Engine.Network.Adapters.NetworkAdapterInfo))]
public sealed class RemoveVzNetworkAdapterCommand : NetworkAdapterCmdlet
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

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var ve in SelectVes(VeName))
        {
            ForItem(ve.DisplayName, () =>
            {
                if (!ShouldProcess($"{ve.DisplayName}:{Name}", "Remove network adapter")) return;
                var adapters = Engine.NetworkAdapters;
                var removed = Run(ct => adapters.RemoveAsync(ve.Id, Name, ct));
                if (PassThru) WriteObject(removed);
            });
        }
    }
}
