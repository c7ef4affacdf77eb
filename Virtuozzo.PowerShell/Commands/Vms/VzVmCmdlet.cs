using System.Management.Automation;
using Virtuozzo.Commands.Completion;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// Base of the cmdlets that act on existing VMs: -Name (wildcards), -Id, or piped VmInfo objects (also
/// deserialized ones from remoting, which bind through Name and Id). Each VM is one item: a failure is written
/// as an error and the next VM goes on.
/// </summary>
public abstract class VzVmCmdlet : VzCmdlet
{
    protected const string NameSet = "Name";
    protected const string IdSet = "Id";
    protected const string InputObjectSet = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [Alias("VmName")]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    public string[] Name { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [Alias("VmId")]
    public Guid[] Id { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    public VmInfo[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        var engine = Engine;
        string[]? names = ParameterSetName == NameSet ? Name : null;
        Guid[]? ids = ParameterSetName switch
        {
            IdSet => Id,
            InputObjectSet => InputObject.Select(v => v.Id).ToArray(),
            _ => null,
        };
        var records = VeSelector.Select(engine.Store, VeType.VirtualMachine, names, ids, (ex, target) => WriteVzError(ex, target)).ToList();
        foreach (var record in records)
            ForItem(record.DisplayName, () => ProcessVm(record));
    }

    /// <summary>Does the work for one VM. Engine exceptions are turned into errors for that VM by the caller.</summary>
    protected abstract void ProcessVm(VeRecord record);

    /// <summary>The VM's current view (for -PassThru after a change).</summary>
    protected VmInfo Describe(Guid id) => Engine.Vms.Describe(Engine.Store.TryGet(id) ?? throw VeSelector.NotFound(VeType.VirtualMachine, id.ToString(), byId: true));
}
