using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Backups;

/// <summary>The checks a backup makes on its destination before it writes anything: there, writable, room enough.</summary>
public static class BackupDestination
{
    /// <summary>Room kept free beyond the estimate (manifest, metadata of the images, the file system's own).</summary>
    public const long SpareBytes = 64L * 1024 * 1024;

    /// <summary>The full path of an existing, writable folder, or a typed error naming what is wrong.</summary>
    public static string Require(string destination, string veName)
    {
        var full = Path.GetFullPath(destination);
        if (!Directory.Exists(full))
            throw new VzNotFoundException("VzBackupDestinationNotFound", $"The backup destination '{full}' does not exist.", full)
            { RecommendedAction = $"Create it first (New-Item -ItemType Directory '{full}') or give an existing folder." };
        var probe = Path.Combine(full, $".vz-write-test-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VzInvalidArgumentException("VzBackupDestinationNotWritable", $"The backup destination '{full}' is not writable: {ex.Message}", full, "Destination")
            { RecommendedAction = "Give a folder this user can write to (check its mode, owner and whether it is mounted read-only)." };
        }
        return full;
    }

    /// <summary>Fails before anything is written when <paramref name="neededBytes"/> (plus a margin) do not fit.</summary>
    public static void RequireSpace(string destination, long neededBytes, string veName)
    {
        var free = FreeSpace.AvailableBytes(destination);
        if (neededBytes + SpareBytes > free)
            throw new VzInsufficientResourcesException("VzBackupInsufficientSpace",
                $"A backup of '{veName}' needs about {(neededBytes + SpareBytes) / 1048576.0:0} MiB in '{destination}', which has {free / 1048576.0:0} MiB free.", destination)
            { RecommendedAction = "Free space there, choose another -Destination, or take an incremental backup (-Incremental) after a full one." };
    }
}
