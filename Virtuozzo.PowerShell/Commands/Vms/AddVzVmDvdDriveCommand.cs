using System.Management.Automation;
using Virtuozzo.Commands.Completion;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Adds a DVD drive, with an ISO image or empty, to a stopped virtual machine.</para>
/// </summary>
[Cmdlet(VerbsCommon.Add, "VzVmDvdDrive", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class AddVzVmDvdDriveCommand : VzVmCmdlet
{
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(VeDiskPathCompleter))]
    public string? Path { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, Path is null ? "Add an empty DVD drive" : $"Add a DVD drive with '{Path}'")) return;
        var engine = Engine;
        var path = Path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var info = Run(ct => Task.FromResult(engine.Vms.AddDvdDrive(record.Id, path, ct)));
        if (PassThru) WriteObject(info);
    }
}
