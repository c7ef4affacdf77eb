using Virtuozzo.Engine.Backups;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Backups;

/// <summary>Backup folders on disk: sealed only when whole, verified by checksums, chains resolved, removal guarded.</summary>
public sealed class BackupFolderTests
{
    private static string Make(TempDirectory temp, BackupKind kind, Guid? parent, DateTimeOffset at, byte fill, out BackupManifest manifest)
    {
        manifest = new BackupManifest { BackupId = Guid.NewGuid(), VeId = Guid.NewGuid(), VeName = "vm1", VeType = VeType.VirtualMachine, Kind = kind, ParentBackupId = parent, CreatedAt = at, Settings = "name: vm1\n" };
        var partial = BackupFolder.CreatePartial(temp.Path, manifest.BackupId);
        File.WriteAllBytes(Path.Combine(partial, "disk0.qcow2"), Enumerable.Repeat(fill, 4096).ToArray());
        File.WriteAllText(Path.Combine(partial, "ve.yaml"), manifest.Settings);
        return BackupFolder.Seal(partial, temp.Path, manifest, CancellationToken.None);
    }

    [Fact]
    public void A_sealed_backup_is_listed_with_its_checksums_and_no_partial_folder_remains()
    {
        using var temp = new TempDirectory();
        var path = Make(temp, BackupKind.Full, null, DateTimeOffset.UtcNow, 1, out var m);
        Assert.StartsWith("vm1-", Path.GetFileName(path));
        Assert.EndsWith("-full", path);
        var listed = Assert.Single(BackupFolder.List(temp.Path));
        Assert.Equal(m.BackupId, listed.Manifest.BackupId);
        Assert.Equal(["disk0.qcow2", "ve.yaml"], listed.Manifest.Files.Select(f => f.Name));
        Assert.Equal(4096 + 10, listed.Manifest.DataBytes);
        Assert.Single(Directory.GetDirectories(temp.Path));
    }

    [Fact]
    public void A_folder_without_a_manifest_is_not_a_backup()
    {
        using var temp = new TempDirectory();
        var partial = BackupFolder.CreatePartial(temp.Path, Guid.NewGuid());
        File.WriteAllText(Path.Combine(partial, "disk0.qcow2"), "half");
        Directory.CreateDirectory(temp.Combine("vm1-20260101-000000-full"));
        Assert.Empty(BackupFolder.List(temp.Path));
        Assert.Equal("VzBackupCorrupt", Assert.Throws<VzBackupCorruptException>(() => BackupFolder.Open(temp.Combine("vm1-20260101-000000-full"))).ErrorId);
    }

    [Fact]
    public void A_changed_or_truncated_file_fails_verification()
    {
        using var temp = new TempDirectory();
        var path = Make(temp, BackupKind.Full, null, DateTimeOffset.UtcNow, 1, out var m);
        BackupFolder.Verify(path, m, null, CancellationToken.None);
        var disk = Path.Combine(path, "disk0.qcow2");
        var bytes = File.ReadAllBytes(disk);
        bytes[100] ^= 0xFF;
        File.WriteAllBytes(disk, bytes);
        Assert.Contains("checksum of 'disk0.qcow2'", Assert.Throws<VzBackupCorruptException>(() => BackupFolder.VerifiedChain(path, null, CancellationToken.None)).Message);
        File.WriteAllBytes(disk, bytes[..1000]);
        Assert.Contains("1000 bytes", Assert.Throws<VzBackupCorruptException>(() => BackupFolder.VerifiedChain(path, null, CancellationToken.None)).Message);
    }

    [Fact]
    public void An_incremental_backup_resolves_its_chain_and_its_base_cannot_be_removed_first()
    {
        using var temp = new TempDirectory();
        var t = DateTimeOffset.UtcNow;
        var fullPath = Make(temp, BackupKind.Full, null, t, 1, out var full);
        var incPath = Make(temp, BackupKind.Incremental, full.BackupId, t.AddSeconds(5), 2, out _);
        var chain = BackupFolder.VerifiedChain(incPath, null, CancellationToken.None);
        Assert.Equal([incPath, fullPath], chain.Select(c => c.Path));
        Assert.Equal("VzBackupHasDependents", Assert.Throws<VzInvalidStateException>(() => BackupFolder.Remove(fullPath)).ErrorId);
        BackupFolder.Remove(incPath);
        BackupFolder.Remove(fullPath);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public void An_incremental_backup_whose_base_is_gone_is_refused()
    {
        using var temp = new TempDirectory();
        var incPath = Make(temp, BackupKind.Incremental, Guid.NewGuid(), DateTimeOffset.UtcNow, 2, out _);
        Assert.Contains("is not in the same folder", Assert.Throws<VzBackupCorruptException>(() => BackupFolder.VerifiedChain(incPath, null, CancellationToken.None)).Message);
    }

    [Fact]
    public void A_manifest_naming_a_file_outside_the_folder_is_refused()
    {
        using var temp = new TempDirectory();
        var path = Make(temp, BackupKind.Full, null, DateTimeOffset.UtcNow, 1, out var m);
        m.Files.Add(new BackupFile("../escape", 1, "00"));
        File.WriteAllText(Path.Combine(path, BackupManifest.FileName), m.ToJson());
        Assert.Contains("outside the backup", Assert.Throws<VzBackupCorruptException>(() => BackupFolder.Open(path)).Message);
    }

    [Fact]
    public void A_missing_or_unwritable_destination_and_too_little_space_are_typed_errors()
    {
        using var temp = new TempDirectory();
        Assert.Equal("VzBackupDestinationNotFound", Assert.Throws<VzNotFoundException>(() => BackupDestination.Require(temp.Combine("nope"), "vm1")).ErrorId);
        Assert.Equal(temp.Path, BackupDestination.Require(temp.Path, "vm1"));
        Assert.Equal("VzBackupInsufficientSpace", Assert.Throws<VzInsufficientResourcesException>(() => BackupDestination.RequireSpace(temp.Path, long.MaxValue / 4, "vm1")).ErrorId);
    }
}
