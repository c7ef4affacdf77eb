using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Backups;

/// <summary>
/// Restore-VzBackup for either kind of VE: verifies the backup and every backup it adds to against their checksums
/// (a damaged or truncated one is refused before anything is created), then hands the chain to the VE's area.
/// </summary>
public static class BackupRestorer
{
    /// <summary>The restored VE: a VmInfo or a ContainerInfo.</summary>
    public static async Task<object> RestoreAsync(VzEngine engine, string path, string? newName, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        progress?.Report(new VzProgress($"Restoring backup '{Path.GetFileName(full)}'", "Verifying checksums", 2));
        var chain = BackupFolder.VerifiedChain(full, null, cancellationToken);
        return chain[0].Manifest.VeType switch
        {
            VeType.VirtualMachine => await engine.Vms.Backups.RestoreAsync(chain, newName, progress, cancellationToken),
            VeType.Container => await engine.Containers.RestoreBackupAsync(chain, newName, progress, cancellationToken),
            _ => throw new VzBackupCorruptException(full, "its manifest names no known kind of VE"),
        };
    }
}
