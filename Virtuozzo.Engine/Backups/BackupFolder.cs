using System.Security.Cryptography;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Backups;

/// <summary>
/// Backups on disk: one folder per backup inside a destination folder, named <c>&lt;ve&gt;-&lt;utc time&gt;-&lt;kind&gt;</c>,
/// holding its data files and <see cref="BackupManifest"/>. A backup is written into a hidden <c>.partial-</c> folder
/// and renamed into place only after its manifest is on disk, so the destination never shows a backup that is not whole.
/// </summary>
public static class BackupFolder
{
    private const string PartialPrefix = ".partial-";

    /// <summary>Every whole backup in <paramref name="destination"/>, oldest first (partial folders are not backups).</summary>
    public static IReadOnlyList<(BackupManifest Manifest, string Path)> List(string destination)
    {
        if (!Directory.Exists(destination)) return [];
        var found = new List<(BackupManifest, string)>();
        foreach (var dir in Directory.EnumerateDirectories(destination))
        {
            if (System.IO.Path.GetFileName(dir).StartsWith('.')) continue;
            var file = System.IO.Path.Combine(dir, BackupManifest.FileName);
            if (!File.Exists(file) || new FileInfo(file).Length > 16 * 1024 * 1024) continue;
            if (BackupManifest.TryParse(File.ReadAllText(file)) is { } m) found.Add((m, dir));
        }
        return [.. found.OrderBy(f => f.Item1.CreatedAt)];
    }

    /// <summary>The manifest of the backup in <paramref name="path"/>; a missing folder is not found, a bad manifest is corrupt.</summary>
    public static BackupManifest Open(string path)
    {
        var file = System.IO.Path.Combine(path, BackupManifest.FileName);
        if (!Directory.Exists(path))
            throw new VzNotFoundException("VzBackupNotFound", $"There is no backup at '{path}'.", path)
            { RecommendedAction = "List the backups of a folder with Get-VzBackup -Destination <folder>." };
        if (!File.Exists(file)) throw new VzBackupCorruptException(path, "it has no manifest.json (an interrupted backup, or not a backup folder)");
        if (new FileInfo(file).Length > 16 * 1024 * 1024) throw new VzBackupCorruptException(path, "its manifest.json is implausibly large");
        var m = BackupManifest.TryParse(File.ReadAllText(file)) ?? throw new VzBackupCorruptException(path, "its manifest.json does not parse");
        if (m.Format != BackupManifest.CurrentFormat) throw new VzBackupCorruptException(path, $"its format {m.Format} is not one this module reads ({BackupManifest.CurrentFormat})");
        foreach (var f in m.Files)
            if (f.Name.Contains('/') || f.Name.StartsWith('.') || f.Name == BackupManifest.FileName)
                throw new VzBackupCorruptException(path, $"its manifest names a file outside the backup ('{f.Name}')");
        return m;
    }

    /// <summary>The backup and the backups it adds to, newest first, each checked against its checksums.</summary>
    public static IReadOnlyList<(BackupManifest Manifest, string Path)> VerifiedChain(string path, IProgress<long>? bytesHashed, CancellationToken cancellationToken)
    {
        var chain = new List<(BackupManifest, string)>();
        var current = System.IO.Path.GetFullPath(path).TrimEnd('/');
        var siblings = (IReadOnlyList<(BackupManifest Manifest, string Path)>?)null;
        while (true)
        {
            var m = Open(current);
            Verify(current, m, bytesHashed, cancellationToken);
            chain.Add((m, current));
            if (m.Kind == BackupKind.Full) return chain;
            siblings ??= List(System.IO.Path.GetDirectoryName(current)!);
            var parent = siblings.FirstOrDefault(s => s.Manifest.BackupId == m.ParentBackupId);
            if (parent.Path is null) throw new VzBackupCorruptException(path, $"the backup it adds to ({m.ParentBackupId}) is not in the same folder");
            if (chain.Count > 1000) throw new VzBackupCorruptException(path, "its chain of incremental backups does not end");
            current = parent.Path;
        }
    }

    /// <summary>Checks every file's size and SHA-256 against the manifest.</summary>
    public static void Verify(string path, BackupManifest m, IProgress<long>? bytesHashed, CancellationToken cancellationToken)
    {
        foreach (var f in m.Files)
        {
            var file = System.IO.Path.Combine(path, f.Name);
            if (!File.Exists(file)) throw new VzBackupCorruptException(path, $"'{f.Name}' is missing");
            var size = new FileInfo(file).Length;
            if (size != f.Size) throw new VzBackupCorruptException(path, $"'{f.Name}' has {size} bytes, the manifest says {f.Size} (truncated or changed)");
            if (Sha256(file, bytesHashed, cancellationToken) != f.Sha256) throw new VzBackupCorruptException(path, $"the checksum of '{f.Name}' does not match");
        }
    }

    /// <summary>
    /// Deletes a backup. One that later incremental backups add to is refused (they would lose their base). The
    /// folder is renamed hidden first, so an interrupted delete never leaves something that looks like a backup.
    /// </summary>
    public static void Remove(string path)
    {
        var full = System.IO.Path.GetFullPath(path).TrimEnd('/');
        var m = Open(full);
        var dependents = List(System.IO.Path.GetDirectoryName(full)!).Where(b => b.Manifest.ParentBackupId == m.BackupId).Select(b => System.IO.Path.GetFileName(b.Path)).ToList();
        if (dependents.Count > 0)
            throw new VzInvalidStateException("VzBackupHasDependents", $"The backup '{full}' is the base of the incremental backup(s) {string.Join(", ", dependents)}.", full)
            { RecommendedAction = "Remove the incremental backups that add to it first (newest first), or keep it." };
        var trash = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, PartialPrefix + "removing-" + m.BackupId.ToString("N"));
        Directory.Move(full, trash);
        Directory.Delete(trash, recursive: true);
    }

    /// <summary>A new hidden folder for a backup in progress.</summary>
    public static string CreatePartial(string destination, Guid backupId)
    {
        var dir = System.IO.Path.Combine(destination, PartialPrefix + backupId.ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>The final folder name of a backup.</summary>
    public static string FinalPath(string destination, BackupManifest m) =>
        System.IO.Path.Combine(destination, $"{m.VeName}-{m.CreatedAt.UtcDateTime:yyyyMMdd-HHmmss}-{m.Kind.ToString().ToLowerInvariant()}");

    /// <summary>
    /// Hashes the files of a finished backup into its manifest, writes the manifest (fsync'd) and renames the folder
    /// into place. Only now is the backup visible as whole.
    /// </summary>
    public static string Seal(string partial, string destination, BackupManifest m, CancellationToken cancellationToken)
    {
        m.Files = [];
        foreach (var file in Directory.EnumerateFiles(partial).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            m.Files.Add(new BackupFile(info.Name, info.Length, Sha256(file, null, cancellationToken)));
            using var h = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite);
            RandomAccess.FlushToDisk(h);
        }
        m.DataBytes = m.Files.Sum(f => f.Size);
        AtomicFile.WriteAllText(System.IO.Path.Combine(partial, BackupManifest.FileName), m.ToJson(),
            UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var final = FinalPath(destination, m);
        for (var n = 2; Directory.Exists(final); n++) final = FinalPath(destination, m) + "-" + n;
        Directory.Move(partial, final);
        AtomicFile.SyncDirectory(destination);
        return final;
    }

    private static string Sha256(string file, IProgress<long>? bytesHashed, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            hash.AppendData(buffer, 0, n);
            bytesHashed?.Report(n);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
