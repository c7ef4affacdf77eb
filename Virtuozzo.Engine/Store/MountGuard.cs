using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// Refuses to delete a folder that still has something mounted inside: a recursive delete would walk into
/// a bind-mounted root or a loop-mounted image and destroy data that is not ours.
/// </summary>
public static class MountGuard
{
    public static IReadOnlyList<string> MountsUnder(string directory) => MountInfo.MountPointsUnder(directory);

    public static void ThrowIfAnythingMountedUnder(string directory, object target)
    {
        var mounts = MountsUnder(directory);
        if (mounts.Count > 0)
            throw new VzInvalidStateException("VzVeStillMounted",
                $"'{directory}' still has {mounts.Count} mount(s) inside ({string.Join(", ", mounts.Take(3))}); it was not deleted.", target)
            { RecommendedAction = "Stop the VE first, or unmount those paths, then remove it again." };
    }
}
