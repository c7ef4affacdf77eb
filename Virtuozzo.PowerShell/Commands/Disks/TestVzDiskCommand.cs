using System.Management.Automation;
using Virtuozzo.Engine.Disks;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Checks a qcow2 image's metadata for corruptions and leaked clusters, as qemu-img check does; -Repair gives leaks back.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "VzDisk", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = PathSet)]
[OutputType(typeof(DiskCheckResult))]
public sealed class TestVzDiskCommand : DiskCmdlet
{
    /// <summary>Repair leaked clusters (and clear the dirty flag when that leaves the image consistent).</summary>
    [Parameter]
    public SwitchParameter Repair { get; set; }

    protected override void ProcessRecord()
    {
        var engine = Engine;
        foreach (var path in ResolveDisks())
        {
            if (Repair && !ShouldProcess(path, "Repair leaked clusters")) continue;
            ForItem(path, () => WriteObject(Run(() => engine.Disks.Test(path, Repair, CancellationToken))));
        }
    }
}
