using Virtuozzo.Engine.Containers.Runtime;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.SharedFolders;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Containers;

/// <summary>Shared folders attached to and detached from a running container (<see cref="LiveShareMount"/>).</summary>
public sealed partial class ContainerService
{
    /// <summary>Mounts <paramref name="share"/> in the running container now; false when it is not running (its next start mounts it).</summary>
    public async Task<bool> AttachShareLiveAsync(Guid id, VeSharedFolder share, CancellationToken ct)
    {
        using var veLock = store.AcquireVeLock(id, ct);
        var (running, pid, runtime) = Live(id);
        if (!running) return false;
        var guest = share.GuestPath ?? SharedFolderRules.DefaultGuestPath(share.Name);
        if (MountedAt(pid, guest)) return true; // a start since the share was stored mounted it already
        // Idmapped exactly when a start would idmap it, so a share shows the same owners however it was attached.
        var idMapped = await IdMappedMounts.SupportedAsync(runner, runtime ?? Runtimes.SelectName(), ct);
        await LiveShareMount.AttachAsync(runner, pid, share.Path, guest, share.ReadOnly, idMapped, NameOf(id), ct);
        return true;
    }

    /// <summary>Unmounts <paramref name="share"/> from the running container now; false when it was not mounted there.</summary>
    public async Task<bool> DetachShareLiveAsync(Guid id, VeSharedFolder share, CancellationToken ct)
    {
        using var veLock = store.AcquireVeLock(id, ct);
        var (running, pid, _) = Live(id);
        var guest = share.GuestPath ?? SharedFolderRules.DefaultGuestPath(share.Name);
        if (!running || !MountedAt(pid, guest)) return false;
        await LiveShareMount.DetachAsync(runner, pid, guest, NameOf(id), ct);
        return true;
    }

    private static bool MountedAt(int pid, string guestPath) =>
        MountInfo.Read($"/proc/{pid}/mountinfo").Any(m => m.MountPoint == guestPath);

    private string NameOf(Guid id) => store.TryGet(id)?.DisplayName ?? id.ToString();
}
