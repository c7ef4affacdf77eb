using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// Gives each container its own 65536 host uids/gids for its user namespace, so no two containers (and no host
/// user) share an id. Ranges are decided under a lock held until the new VE's config is written.
/// </summary>
public static class IdRangeAllocator
{
    public const long RangeSize = ContainerSettings.DefaultUidCount;
    public const long FirstBase = 100_000 * 10; // 1,000,000: clear of /etc/subuid defaults (100000+) and host users

    /// <summary>Highest base so the range still fits in a 32-bit uid below the overflow id.</summary>
    private const long LastBase = 4_000_000_000;

    /// <summary>Takes the lock that makes allocate-then-register atomic across processes.</summary>
    public static FileLock Lock(VzPaths paths, CancellationToken ct)
    {
        Directory.CreateDirectory(paths.DataRoot);
        return FileLock.Acquire(Path.Combine(paths.DataRoot, ".idmap.lock"), VeStore.LockTimeout, "uid ranges", ct);
    }

    /// <summary>The lowest free base, given the VEs registered now. Call with <see cref="Lock"/> held.</summary>
    public static long Next(IEnumerable<VeRecord> records)
    {
        var used = records.Select(r => r.Config?.Container?.UidBase ?? 0).Where(b => b > 0).ToHashSet();
        for (var b = FirstBase; b <= LastBase; b += RangeSize) if (!used.Contains(b)) return b;
        throw new Errors.VzInvalidStateException("VzNoFreeIdRange", "Every user-namespace id range is in use.", "uid ranges");
    }
}
