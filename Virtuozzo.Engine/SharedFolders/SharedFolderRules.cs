using System.Text.RegularExpressions;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

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
    /// The share to store for a VE of that kind, from arguments whose name and host path are already checked: a VM
    /// takes no guest path and no Bind, a read-only VM share goes over 9p, a container always bind-mounts at a
    /// canonical guest path (by default /mnt/NAME). Used by Add-VzSharedFolder and Import-VzConfig alike.
    /// </summary>
    public static VeSharedFolder Check(string name, string hostPath, string? guestPath, bool readOnly, SharedFolderTransport transport, bool isVm, string veName)
    {
        if (isVm)
        {
            if (guestPath is not null)
                throw new VzInvalidArgumentException("VzSharedFolderGuestPathVm",
                    $"A VM's guest mounts a shared folder itself, by its tag ('{name}'); -GuestPath applies to containers only.", veName, "GuestPath")
                { RecommendedAction = $"Leave -GuestPath out, and in the guest run: mount -t virtiofs {name} /mnt (9p: mount -t 9p -o trans=virtio {name} /mnt)." };
            if (transport == SharedFolderTransport.Bind)
                throw new VzInvalidArgumentException("VzSharedFolderTransportInvalid", "A VM gets a shared folder over VirtioFs or NineP; Bind is for containers.", veName, "Transport")
                { RecommendedAction = "Use -Transport Auto, VirtioFs or NineP." };
            if (transport == SharedFolderTransport.VirtioFs && readOnly)
                throw new VzInvalidArgumentException("VzSharedFolderReadOnlyVirtioFs",
                    "QEMU 7.2's virtiofsd cannot serve a folder read-only; a read-only share goes over 9p, which QEMU enforces.", veName, "ReadOnly")
                { RecommendedAction = "Use -Transport Auto or NineP with -ReadOnly." };
            return new VeSharedFolder { Name = name, Path = hostPath, ReadOnly = readOnly, Transport = transport != SharedFolderTransport.Auto ? transport : null };
        }
        if (transport is not (SharedFolderTransport.Auto or SharedFolderTransport.Bind))
            throw new VzInvalidArgumentException("VzSharedFolderTransportInvalid", $"A container gets a shared folder as a bind mount; {transport} is for VMs.", veName, "Transport")
            { RecommendedAction = "Leave -Transport out for a container." };
        var mountPoint = ValidateGuestPath(guestPath ?? DefaultGuestPath(name), veName);
        return new VeSharedFolder { Name = name, Path = hostPath, GuestPath = mountPoint, ReadOnly = readOnly };
    }

    /// <summary>Refuses a share whose name another share of the VE has, or whose guest path is above or below another's.</summary>
    public static void CheckAgainst(IEnumerable<VeSharedFolder> existing, VeSharedFolder share, string veName)
    {
        var list = existing.ToList();
        if (list.Any(s => string.Equals(s.Name, share.Name, StringComparison.OrdinalIgnoreCase)))
            throw new VzAlreadyExistsException("VzSharedFolderExists", $"'{veName}' already has a shared folder named '{share.Name}'.", veName)
            { RecommendedAction = $"Choose another name, or remove it first: Remove-VzSharedFolder -VeName '{veName}' -Name '{share.Name}'." };
        if (share.GuestPath is { } mountPoint && list.FirstOrDefault(s => s.GuestPath is { } g && (Within(g, mountPoint) || Within(mountPoint, g))) is { } clash)
            throw new VzAlreadyExistsException("VzSharedFolderGuestPathInUse",
                $"The guest path '{mountPoint}' overlaps '{clash.GuestPath}' of the shared folder '{clash.Name}' of '{veName}'.", veName)
            { RecommendedAction = "Choose a -GuestPath that is neither above nor below another share's." };
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
