using System.Management.Automation;
using Virtuozzo.Commands.Completion;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Writes the settings of containers and VMs to a YAML desired-state file that Import-VzConfig reads back.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "VzConfig", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class ExportVzConfigCommand : VzCmdlet
{
    private const string NameSet = "Name";
    private const string IdSet = "Id";
    private readonly List<VeRecord> selected = [];
    private readonly HashSet<Guid> seen = [];

    /// <summary>VE names (wildcards); all VEs when omitted.</summary>
    [Parameter(Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VeNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    public Guid[]? Id { get; set; }

    /// <summary>Only containers or only VMs.</summary>
    [Parameter(ParameterSetName = NameSet)]
    public VeType? Type { get; set; }

    /// <summary>The file to write; without it the YAML goes to the pipeline as one string.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var store = Engine.Store;
        // Objects piped from Get-VzContainer carry both Name and Id: the id is exact, so it wins.
        var records = Id is { Length: > 0 }
            ? VeSelector.SelectAny(store, null, Id, (ex, t) => WriteVzError(ex, t))
            : VeSelector.SelectAny(store, Name, null, (ex, t) => WriteVzError(ex, t));
        foreach (var r in records)
        {
            if (Type is { } t && r.Config?.Type != t) continue;
            if (seen.Add(r.Id)) selected.Add(r);
        }
    }

    protected override void EndProcessing()
    {
        try
        {
            var exchange = Engine.ConfigExchange;
            // Names or ids that matched nothing were reported already; an empty document would only mislead.
            if (selected.Count == 0 && (Name is { Length: > 0 } || Id is { Length: > 0 })) return;
            if (Path is null)
            {
                WriteObject(Run(() => exchange.Export(selected)));
                return;
            }
            var file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
            if (NoClobber && File.Exists(file))
                ThrowVzError(new Engine.Errors.VzAlreadyExistsException("VzFileExists", $"The file '{file}' already exists and -NoClobber was given.", file)
                { RecommendedAction = "Give another -Path, or leave out -NoClobber to replace the file." }, file);
            if (!ShouldProcess(file, $"Write the settings of {selected.Count} VE(s)")) return;
            Run(() => { exchange.ExportToFile(selected, file); return true; });
            if (PassThru) WriteObject(new FileInfo(file));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException and not PSInvalidOperationException) { ThrowVzError(ex, Path); }
        finally { base.EndProcessing(); }
    }
}
