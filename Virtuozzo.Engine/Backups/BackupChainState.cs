using System.Text.Json;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Backups;

/// <summary>
/// <c>backup-chain.json</c> in a VE's folder: which backup the VE's dirty bitmaps (VM) or file list (container)
/// track changes from. An incremental backup adds to exactly that backup, so it refuses to guess when the backup is
/// not in the destination, and runs full instead (and says why).
/// </summary>
public sealed class BackupChainState
{
    public const string FileName = "backup-chain.json";

    public Guid LastBackupId { get; set; }
    public string LastBackupPath { get; set; } = "";
    /// <summary>The VM disks the bitmaps were added to; a changed set means a full backup.</summary>
    public List<string> Disks { get; set; } = [];
    /// <summary>Set when something broke the chain (a snapshot restore rewound the disks): the next backup is full, for this reason.</summary>
    public string? BrokenReason { get; set; }

    public static BackupChainState? Read(string veDirectory)
    {
        var path = Path.Combine(veDirectory, FileName);
        if (!File.Exists(path) || new FileInfo(path).Length > 1024 * 1024) return null;
        try { return JsonSerializer.Deserialize<BackupChainState>(File.ReadAllText(path)); }
        catch (JsonException) { return null; }
    }

    public void Write(string veDirectory) => AtomicFile.WriteAllText(Path.Combine(veDirectory, FileName), JsonSerializer.Serialize(this));

    /// <summary>Marks the chain broken, so the next incremental backup runs full and says <paramref name="reason"/>.</summary>
    public static void Break(string veDirectory, string reason)
    {
        if (Read(veDirectory) is not { } state) return;
        state.BrokenReason = reason;
        state.Write(veDirectory);
    }
}
