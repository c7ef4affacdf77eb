using System.Text.Json;
using System.Text.Json.Serialization;

namespace Virtuozzo.Engine.Backups;

/// <summary>
/// <c>manifest.json</c> of one backup folder, written last: a folder without it is not a backup (an interrupted one
/// is never mistaken for a whole one). It names every file with its size and SHA-256, so a restore refuses a
/// corrupt or truncated backup before it changes anything, and it carries the VE's settings (ve.yaml as it was).
/// </summary>
public sealed class BackupManifest
{
    public const int CurrentFormat = 1;
    public const string FileName = "manifest.json";

    public int Format { get; set; } = CurrentFormat;
    public Guid BackupId { get; set; }
    public Guid VeId { get; set; }
    public string VeName { get; set; } = "";
    public Store.VeType VeType { get; set; }
    public BackupKind Kind { get; set; }
    /// <summary>For an incremental backup: the backup it adds to (its data files are the backing of this one's).</summary>
    public Guid? ParentBackupId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Why a backup is full when an incremental one was asked for (the bitmap was lost, no base found...).</summary>
    public string? Reason { get; set; }
    /// <summary>Whether the VE ran during the backup (then it is a live, crash-consistent image of that instant).</summary>
    public bool WasRunning { get; set; }
    /// <summary>The VE's ve.yaml at backup time.</summary>
    public string Settings { get; set; } = "";
    public List<BackupFile> Files { get; set; } = [];
    /// <summary>VM disks: which file holds which disk.</summary>
    public List<BackupDisk> Disks { get; set; } = [];
    /// <summary>Bytes of data written for this backup (the files' sizes).</summary>
    public long DataBytes { get; set; }
    public double DurationSeconds { get; set; }

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, MaxDepth = 16,
        Converters = { new JsonStringEnumConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Parses a manifest; null when the text is not one (the caller reports the folder as corrupt).</summary>
    public static BackupManifest? TryParse(string json)
    {
        try { return JsonSerializer.Deserialize<BackupManifest>(json, Options); }
        catch (JsonException) { return null; }
    }
}

/// <summary>One file of a backup, relative to its folder.</summary>
public sealed record BackupFile(string Name, long Size, string Sha256);

/// <summary>One VM disk in a backup: its id in the VM, the file in the backup folder, and its virtual size.</summary>
public sealed record BackupDisk(string DiskId, string File, long VirtualSize);

/// <summary>Full: all data. Incremental: what changed since the parent backup.</summary>
public enum BackupKind
{
    Full,
    Incremental,
}
