using System.Management.Automation;
using Virtuozzo.Engine.Backups;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Backs up containers (settings and private area as tar + zstd) to a folder; -Incremental stores only changed files.</para>
/// </summary>
[Cmdlet(VerbsData.Backup, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(BackupInfo))]
public sealed class BackupVzContainerCommand : ContainerCmdlet
{
    /// <summary>An existing folder; each backup becomes a subfolder of it.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Store only files changed since the container's last backup in this folder (full when that is not possible, with the reason).</summary>
    [Parameter]
    public SwitchParameter Incremental { get; set; }

    /// <summary>Run in the background: returns a job whose output is the backup.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessContainer(VeRecord record)
    {
        var destination = GetUnresolvedProviderPathFromPSPath(Destination);
        if (!ShouldProcess(record.DisplayName, $"{(Incremental ? "Incremental backup" : "Full backup")} to '{destination}'")) return;
        var engine = Engine;
        var (id, incremental) = (record.Id, Incremental.IsPresent);
        RunOrStartJob(AsJob, $"Backup-VzContainer {record.DisplayName} {destination}",
            (progress, ct) => engine.Containers.BackupAsync(id, destination, incremental, progress, ct));
    }
}
