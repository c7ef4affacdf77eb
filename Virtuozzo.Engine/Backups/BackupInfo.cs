namespace Virtuozzo.Engine.Backups;

/// <summary>What Get-VzBackup and Backup-VzVm show for one backup.</summary>
public sealed record BackupInfo
{
    public Guid BackupId { get; init; }
    public string VeName { get; init; } = "";
    public Guid VeId { get; init; }
    public Store.VeType VeType { get; init; }
    public BackupKind Kind { get; init; }
    public Guid? ParentBackupId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>The backup's folder (Restore-VzBackup -Path, Remove-VzBackup -Path).</summary>
    public string Path { get; init; } = "";
    /// <summary>Bytes written for this backup.</summary>
    public long DataBytes { get; init; }
    public double DurationSeconds { get; init; }
    /// <summary>Data bytes per second of the backup run, in MiB/s.</summary>
    public double ThroughputMiBps => DurationSeconds > 0 ? DataBytes / 1048576.0 / DurationSeconds : 0;
    /// <summary>Why it is full when an incremental one was asked for; null otherwise.</summary>
    public string? Reason { get; init; }
    public bool WasRunning { get; init; }

    public override string ToString() => Path;

    public static BackupInfo From(BackupManifest m, string path) => new()
    {
        BackupId = m.BackupId, VeName = m.VeName, VeId = m.VeId, VeType = m.VeType, Kind = m.Kind, ParentBackupId = m.ParentBackupId,
        CreatedAt = m.CreatedAt, Path = path, DataBytes = m.DataBytes, DurationSeconds = m.DurationSeconds, Reason = m.Reason, WasRunning = m.WasRunning,
    };
}
