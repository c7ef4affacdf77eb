using Virtuozzo.Commands.Completion;
using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Lists containers with their settings, state and live usage.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzContainer", DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class GetVzContainerCommand : VzCmdlet
{
    /// <summary>Container names; wildcards allowed. All containers when left out.</summary>
    [Parameter(Position = 0, ParameterSetName = "Name", ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Container ids.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
    public Guid[]? Id { get; set; }

    protected override void ProcessRecord()
    {
        var engine = Engine;
        var usage = new UsageColumns(engine);
        foreach (var r in VeSelector.Select(engine.Store, VeType.Container, Name, Id, (e, t) => WriteVzError(e, t)).ToList())
        {
            // An unreadable ve.yaml is an error naming the file and line; the other containers still list.
            if (r.Error is { } corrupt) { WriteVzError(corrupt, corrupt.Path); continue; }
            ForItem(r.DisplayName, () => WriteObject(usage.Add(engine.Containers.Describe(r))));
        }
    }
}
