using System.Management.Automation;

namespace Virtuozzo.Commands;

/// <summary>
/// What Backup-VzVm and Backup-VzContainer share, declared once and handed to PowerShell as each cmdlet's dynamic
/// parameters, so a backup runbook splats the same hashtable onto either kind.
/// </summary>
public sealed class BackupParameters
{
    /// <summary>An existing folder; each backup becomes a subfolder of it.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Store only what changed since the VE's last backup in this folder (full when that is not possible, with the reason).</summary>
    [Parameter]
    public SwitchParameter Incremental { get; set; }

    /// <summary>Run in the background: returns a job whose output is the backup.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>The ShouldProcess action for a backup to <paramref name="destination"/> (already resolved to a file system path).</summary>
    public string Action(string destination) => $"{(Incremental ? "Incremental backup" : "Full backup")} to '{destination}'";
}
