using System.Management.Automation;
using Virtuozzo.Engine.Backups;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Deletes backups; one that incremental backups add to is refused.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzBackup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BackupInfo))]
public sealed class RemoveVzBackupCommand : Infrastructure.VzCmdlet
{
    /// <summary>The backup's folder (Get-VzBackup output binds through its Path).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Write the removed backup (Hyper-V's convention).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var p in Path)
        {
            var path = GetUnresolvedProviderPathFromPSPath(p);
            ForItem(path, () =>
            {
                if (!ShouldProcess(path, "Remove backup")) return;
                var before = BackupInfo.From(BackupFolder.Open(path), path);
                Run(() => { BackupFolder.Remove(path); return true; });
                if (PassThru) WriteObject(before);
            });
        }
    }
}
