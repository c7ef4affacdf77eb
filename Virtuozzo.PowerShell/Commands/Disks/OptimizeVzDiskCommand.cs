using System.Management.Automation;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Disks.Compact;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Compacts a qcow2 image: discards the free space of its file systems (offline, or through the guest agent of the running VM that has it open) and rewrites it without unused clusters.</para>
/// </summary>
/// <remarks>ConfirmImpact High: it rewrites the image in place.</remarks>
[Cmdlet(VerbsCommon.Optimize, "VzDisk", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = PathSet)]
[OutputType(typeof(DiskCompactResult), typeof(DiskInfo))]
public sealed class OptimizeVzDiskCommand : DiskCmdlet
{
    /// <summary>Write the compacted disk (a DiskInfo) instead of the compact report.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Run in the background: returns a job whose output is what the cmdlet would write.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessRecord()
    {
        var engine = Engine;
        var passThru = PassThru.IsPresent;
        foreach (var path in ResolveDisks())
        {
            if (!ShouldProcess(path, "Compact (discard the file systems' free space, rewrite without unused clusters)")) continue;
            ForItem(path, () => RunOrStartJob(AsJob, $"Optimize-VzDisk {path}", async (progress, ct) =>
            {
                var result = await engine.Disks.OptimizeAsync(path, progress, ct);
                return passThru ? (object)result.Disk : result;
            }));
        }
    }
}
