using System.Management.Automation;
using Virtuozzo.Engine.Disks;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Converts a disk image between formats (QCOW2, raw, VMDK, VHDX, VHD, VDI, Parallels, QED, qcow), in place or into a new file.</para>
/// </summary>
/// <remarks>ConfirmImpact High: a conversion in place rewrites the whole file.</remarks>
[Cmdlet(VerbsData.Convert, "VzDisk", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = PathSet)]
[OutputType(typeof(DiskInfo))]
public sealed class ConvertVzDiskCommand : DiskCmdlet
{
    /// <summary>The format to convert to.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public DiskFormat Format { get; set; }

    /// <summary>Write the result here (must not exist) instead of replacing the original.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DestinationPath { get; set; }

    /// <summary>Read a whole block device (not mounted, not in use) as the source; needs -DestinationPath.</summary>
    [Parameter]
    public SwitchParameter AllowBlockDevice { get; set; }

    /// <summary>Write the converted disk to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Run in the background: returns a job whose output is what the cmdlet would write.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessRecord()
    {
        var engine = Engine;
        var destination = DestinationPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(DestinationPath);
        foreach (var path in ResolveDisks())
        {
            var what = destination is null ? $"Convert to {Format} in place" : $"Convert to {Format} as '{destination}'";
            if (!ShouldProcess(path, what)) continue;
            var format = Format;
            var allowBlockDevice = AllowBlockDevice.IsPresent;
            ForItem(path, () => RunOrStartJob(AsJob, $"Convert-VzDisk {path} {format}",
                (progress, ct) => engine.Disks.ConvertAsync(path, format, destination, progress, null, ct, allowBlockDevice), write: PassThru));
        }
    }
}
