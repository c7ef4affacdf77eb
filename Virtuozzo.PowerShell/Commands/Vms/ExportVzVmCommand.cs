using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Describes a virtual machine in another tool's format: a libvirt domain XML.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class ExportVzVmCommand : VzVmCmdlet
{
    [Parameter(Mandatory = true)]
    public VmExportFormat Format { get; set; }

    /// <summary>Write to this file instead of the pipeline.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        var engine = Engine;
        var text = Run(ct => engine.Vms.ExportAsync(record.Id, Format, ct));
        if (Path is null) { WriteObject(text); return; }
        var file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(file, $"Write the {Format} description of '{record.DisplayName}'")) return;
        File.WriteAllText(file, text);
        WriteObject(new FileInfo(file));
    }
}
