using System.Management.Automation;
using Virtuozzo.Engine.Disks;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Compacts a qcow2 image: rewrites it without unused clusters, keeping its settings and backing file.</para>
/// </summary>
/// <remarks>ConfirmImpact High: it rewrites the image in place.</remarks>
[Cmdlet(VerbsCommon.Optimize, "VzDisk", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = PathSet)]
[OutputType(typeof(DiskInfo))]
public sealed class OptimizeVzDiskCommand : DiskCmdlet
{
    /// <summary>Write the compacted disk to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Run in the background: returns a job whose output is what the cmdlet would write.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessRecord()
    {
        var engine = Engine;
        foreach (var path in ResolveDisks())
        {
            if (!ShouldProcess(path, "Compact (rewrite without unused clusters)")) continue;
            ForItem(path, () => RunOrStartJob(AsJob, $"Optimize-VzDisk {path}", (progress, ct) => engine.Disks.OptimizeAsync(path, progress, ct), write: PassThru));
        }
    }
}
