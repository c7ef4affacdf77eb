using System.Management.Automation;
using Virtuozzo.Commands.Completion;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Metrics;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Measures running containers' CPU, memory, disk and network use over an interval.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "VzContainer", DefaultParameterSetName = "Name")]
[OutputType(typeof(VeUsage))]
public sealed class MeasureVzContainerCommand : MeasureVeCmdlet
{
    /// <summary>Container names; wildcards allowed. Every running container when left out.</summary>
    [Parameter(Position = 0, ParameterSetName = "Name", ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Container ids.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
    public Guid[] Id { get; set; } = [];

    /// <summary>Containers from Get-VzContainer.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "InputObject", ValueFromPipeline = true)]
    public ContainerInfo[] InputObject { get; set; } = [];

    protected override VeType Type => VeType.Container;

    protected override bool SelectedByPattern => ParameterSetName == "Name" && (Name is not { Length: > 0 } || Name.Any(WildcardPattern.ContainsWildcardCharacters));

    protected override IEnumerable<VeRecord> Selected() => VeSelector.Select(Engine.Store, VeType.Container,
        ParameterSetName == "Name" ? Name : null,
        ParameterSetName switch { "Id" => Id, "InputObject" => InputObject.Select(i => i.Id).ToArray(), _ => null },
        (e, t) => WriteVzError(e, t));
}
