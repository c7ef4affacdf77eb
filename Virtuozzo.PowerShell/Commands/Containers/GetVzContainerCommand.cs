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
        var records = VeSelector.Select(engine.Store, VeType.Container, Name, Id, (e, t) => WriteVzError(e, t)).ToList();
        // The selected containers (only they) are described up front, side by side: hundreds at density.
        var readable = records.Where(r => r.Error is null).ToList();
        var described = engine.Containers.DescribeMany(readable);
        var next = 0;
        foreach (var r in records)
        {
            // An unreadable ve.yaml is an error naming the file and line; the other containers still list.
            if (r.Error is { } corrupt) { WriteVzError(corrupt, corrupt.Path); continue; }
            var (info, error) = described[next++];
            ForItem(r.DisplayName, () =>
            {
                if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
                WriteObject(usage.Add(info!));
            });
        }
    }
}
