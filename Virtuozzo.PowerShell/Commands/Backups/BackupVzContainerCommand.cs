using System.Management.Automation;
using Virtuozzo.Engine.Backups;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Backs up containers (settings and private area as tar + zstd) to a folder; -Incremental stores only changed files.</para>
/// </summary>
[Cmdlet(VerbsData.Backup, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(BackupInfo))]
public sealed class BackupVzContainerCommand : ContainerCmdlet, IDynamicParameters
{
    private readonly BackupParameters backup = new();

    /// <summary>Destination, Incremental, AsJob (<see cref="BackupParameters"/>).</summary>
    public object GetDynamicParameters() => backup;

    protected override void ProcessContainer(VeRecord record)
    {
        var destination = GetUnresolvedProviderPathFromPSPath(backup.Destination);
        if (!ShouldProcess(record.DisplayName, backup.Action(destination))) return;
        var engine = Engine;
        var (id, incremental) = (record.Id, backup.Incremental.IsPresent);
        RunOrStartJob(backup.AsJob, $"Backup-VzContainer {record.DisplayName} {destination}",
            (progress, ct) => engine.Containers.BackupAsync(id, destination, incremental, progress, ct));
    }
}
