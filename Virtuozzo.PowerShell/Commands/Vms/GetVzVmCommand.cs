using System.Management.Automation;
using Virtuozzo.Commands.Completion;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Lists virtual machines with their state, CPU, memory and disks.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzVm", DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class GetVzVmCommand : VzCmdlet
{
    private const string NameSet = "Name";
    private const string IdSet = "Id";

    [Parameter(Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [Alias("VmName")]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [Alias("VmId")]
    public Guid[] Id { get; set; } = [];

    /// <summary>Ask each running VM's guest agent whether it answers (fills GuestToolsState; costs a round trip).</summary>
    [Parameter]
    public SwitchParameter GuestTools { get; set; }

    protected override void ProcessRecord()
    {
        var engine = Engine;
        var usage = new UsageColumns(engine);
        var records = VeSelector.Select(engine.Store, VeType.VirtualMachine, ParameterSetName == NameSet ? Name : null,
            ParameterSetName == IdSet ? Id : null, (ex, target) => WriteVzError(ex, target)).ToList();
        foreach (var record in records)
        {
            // An unreadable ve.yaml is an error naming the file and line; the other VMs still list.
            if (record.Error is { } corrupt) { WriteVzError(corrupt, corrupt.Path); continue; }
            ForItem(record.DisplayName, () =>
            {
                var info = GuestTools
                    ? Run(ct => engine.Vms.DescribeWithGuestToolsAsync(record, TimeSpan.FromSeconds(2), ct))
                    : engine.Vms.Describe(record);
                WriteObject(usage.Add(info));
            });
        }
    }
}
