using System.Management.Automation;
using Virtuozzo.Commands.Completion;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Metrics;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Measures running VMs' CPU, memory, disk and network use over an interval.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "VzVm", DefaultParameterSetName = "Name")]
[OutputType(typeof(VeUsage))]
public sealed class MeasureVzVmCommand : MeasureVeCmdlet
{
    /// <summary>VM names; wildcards allowed. Every running VM when left out.</summary>
    [Parameter(Position = 0, ParameterSetName = "Name", ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [Alias("VmName")]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>VM ids.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
    [Alias("VmId")]
    public Guid[] Id { get; set; } = [];

    /// <summary>VMs from Get-VzVm.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "InputObject", ValueFromPipeline = true)]
    public VmInfo[] InputObject { get; set; } = [];

    protected override VeType Type => VeType.VirtualMachine;

    protected override bool SelectedByPattern => ParameterSetName == "Name" && (Name is not { Length: > 0 } || Name.Any(WildcardPattern.ContainsWildcardCharacters));

    protected override IEnumerable<VeRecord> Selected() => VeSelector.Select(Engine.Store, VeType.VirtualMachine,
        ParameterSetName == "Name" ? Name : null,
        ParameterSetName switch { "Id" => Id, "InputObject" => InputObject.Select(i => i.Id).ToArray(), _ => null },
        (e, t) => WriteVzError(e, t));
}
