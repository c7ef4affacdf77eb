using System.Text.RegularExpressions;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.SharedFolders;

/// <summary>
/// What a shared folder may be called and point at. Checked before anything is stored, so a refused share leaves the
/// VE as it was. A host path is taken only as the canonical path of an existing folder: <c>..</c> segments and
/// symlinks are refused rather than resolved, because the path stored is the one a later start binds, and a link
/// swapped in between would redirect it (Proxmox refuses symlinks in bind mount sources for the same reason).
/// </summary>
public static partial class SharedFolderRules
{
    /// <summary>9p mount tags hold at most 31 bytes (virtio-fs 36); the name is the tag, so the shorter limit holds.</summary>
    public const int MaxNameLength = 31;

    /// <summary>Host trees never shared: the kernel's and the device files, whose contents are not folders of files.</summary>
    private static readonly string[] ReservedHostRoots = ["/proc", "/sys", "/dev"];

    /// <summary>Guest trees a container's runtime mounts itself; a share there would hide or be hidden by them.</summary>
    private static readonly string[] ReservedGuestRoots = ["/proc", "/sys", "/dev"];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    /// <summary>Letters, digits, '-' and '_', starting with a letter or digit, at most 31 characters.</summary>
    public static void ValidateName(string name, object target)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || !NamePattern().IsMatch(name))
            throw new VzInvalidArgumentException("VzSharedFolderNameInvalid",
                $"The shared folder name '{name}' is not valid: use 1-{MaxNameLength} letters, digits, '-' or '_', starting with a letter or digit (it becomes the guest's mount tag).", target, "Name")
            { RecommendedAction = "Choose a name such as 'data' or 'build-cache'." };
    }

    /// <summary>
    /// The host folder as stored: must be absolute, free of <c>..</c> and symlinks, exist and be a folder, and lie
    /// outside the kernel trees and the data root (which holds every VE's disks and configs).
    /// </summary>
    public static string ValidateHostPath(string path, string dataRoot, object target)
    {
        if (string.IsNullOrEmpty(path) || !path.StartsWith('/') || path.Any(char.IsControl))
            throw new VzInvalidArgumentException("VzSharedFolderPathNotAbsolute", $"The shared folder path '{path}' is not an absolute host path.", target, "Path")
            { RecommendedAction = "Give the folder's full path, for example /srv/share." };
        if (Segments(path).Any(s => s is ".." or "."))
            throw new VzInvalidArgumentException("VzSharedFolderPathTraversal", $"The shared folder path '{path}' contains '.' or '..' segments.", target, "Path")
            { RecommendedAction = "Give the folder's canonical path (as 'realpath' prints it)." };
        var clean = "/" + string.Join('/', Segments(path));
        if (!Directory.Exists(clean))
        {
            if (File.Exists(clean))
                throw new VzInvalidArgumentException("VzSharedFolderPathNotDirectory", $"The shared folder path '{clean}' is a file or a device, not a folder.", target, "Path")
                { RecommendedAction = "Share a folder; to give a VE a block device, attach it as a disk." };
            throw new VzNotFoundException("VzSharedFolderPathNotFound", $"The folder '{clean}' does not exist on this host.", target)
            { RecommendedAction = $"Create it first (mkdir -p '{clean}') or correct the path." };
        }
        var prefix = "";
        foreach (var segment in Segments(clean))
        {
            prefix += "/" + segment;
            if (new DirectoryInfo(prefix).LinkTarget is not null)
                throw new VzInvalidArgumentException("VzSharedFolderPathSymlink",
                    $"The shared folder path '{clean}' goes through the symbolic link '{prefix}'.", target, "Path")
                { RecommendedAction = $"Give the real path instead (realpath '{clean}')." };
        }
        if (clean == "/" || ReservedHostRoots.Any(r => Within(clean, r)))
            throw new VzInvalidArgumentException("VzSharedFolderPathReserved", $"The host folder '{clean}' cannot be shared: it is the root or a kernel tree.", target, "Path")
            { RecommendedAction = "Share a folder made for the purpose, for example /srv/share." };
        var root = "/" + string.Join('/', Segments(Path.GetFullPath(dataRoot)));
        if (Within(clean, root) || Within(root, clean))
            throw new VzInvalidArgumentException("VzSharedFolderPathReserved",
                $"The host folder '{clean}' overlaps the data root '{root}', which holds every VE's disks and configs.", target, "Path")
            { RecommendedAction = "Share a folder outside the data root." };
        return clean;
    }

    /// <summary>A container's mount point: absolute, canonical, not the root and not a tree the runtime mounts.</summary>
    public static string ValidateGuestPath(string guestPath, object target)
    {
        if (string.IsNullOrEmpty(guestPath) || !guestPath.StartsWith('/') || guestPath.Any(char.IsControl))
            throw new VzInvalidArgumentException("VzSharedFolderGuestPathInvalid", $"The guest path '{guestPath}' is not an absolute path.", target, "GuestPath")
            { RecommendedAction = "Give an absolute path inside the container, for example /mnt/data." };
        if (Segments(guestPath).Any(s => s is ".." or "."))
            throw new VzInvalidArgumentException("VzSharedFolderGuestPathInvalid", $"The guest path '{guestPath}' contains '.' or '..' segments.", target, "GuestPath")
            { RecommendedAction = "Give the mount point's canonical path, for example /mnt/data." };
        var clean = "/" + string.Join('/', Segments(guestPath));
        if (clean == "/" || ReservedGuestRoots.Any(r => Within(clean, r)))
            throw new VzInvalidArgumentException("VzSharedFolderGuestPathInvalid", $"The guest path '{clean}' is the root or a kernel tree the container runtime mounts itself.", target, "GuestPath")
            { RecommendedAction = "Mount the share elsewhere, for example under /mnt." };
        return clean;
    }

    /// <summary>
    /// Checks every share of <paramref name="config"/> again before a start binds it (the folder may have gone or
    /// been replaced by a link since it was added); returns how many there are.
    /// </summary>
    public static int RecheckAll(Store.VeConfig config, string dataRoot)
    {
        foreach (var share in config.SharedFolders ?? [])
            if (ValidateHostPath(share.Path, dataRoot, config.Name) != share.Path)
                throw new VzInvalidStateException("VzSharedFolderPathChanged", $"The shared folder '{share.Name}' of '{config.Name}' points at '{share.Path}', which is no longer canonical.", config.Name)
                { RecommendedAction = $"Remove-VzSharedFolder -VeName '{config.Name}' -Name '{share.Name}' and add it again with the folder's real path." };
        return config.SharedFolders?.Count ?? 0;
    }

    /// <summary>Where a container sees a share added without -GuestPath.</summary>
    public static string DefaultGuestPath(string name) => "/mnt/" + name;

    /// <summary>Whether <paramref name="path"/> is <paramref name="root"/> or below it (both canonical).</summary>
    public static bool Within(string path, string root) =>
        path == root || root == "/" || path.StartsWith(root + "/", StringComparison.Ordinal);

    private static IEnumerable<string> Segments(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
