using Virtuozzo.Commands.Completion;
using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// Base of the cmdlets that act on existing containers: -Name (wildcards), -Id, or piped ContainerInfo objects
/// (deserialized ones bind through Name/Id). Each container is handled on its own: one failure is written as an
/// error and the rest go on.
/// </summary>
public abstract class ContainerCmdlet : VzCmdlet
{
    /// <summary>Container names; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Name", ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>Container ids.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
    public Guid[] Id { get; set; } = [];

    /// <summary>Containers from Get-VzContainer.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "InputObject", ValueFromPipeline = true)]
    public ContainerInfo[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        IEnumerable<VeRecord> records;
        if (ParameterSetName == "InputObject")
            records = VeSelector.Select(Engine.Store, VeType.Container, null, InputObject.Select(i => i.Id).ToArray(), (e, t) => WriteVzError(e, t));
        else
            records = VeSelector.Select(Engine.Store, VeType.Container, ParameterSetName == "Name" ? Name : null, ParameterSetName == "Id" ? Id : null, (e, t) => WriteVzError(e, t));
        foreach (var r in records.ToList())
            ForItem(r.DisplayName, () => ProcessContainer(r));
    }

    /// <summary>Acts on one container. Engine exceptions become a non-terminating error for that container.</summary>
    protected abstract void ProcessContainer(VeRecord record);
}
