using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// The Image layout: the root tree lives on a sparse XFS image (<c>root.img</c>) loop-mounted at <c>root/</c> while
/// the container is used, which gives a hard disk limit. XFS because it grows online (<c>xfs_growfs</c>); ext4's
/// online grow needs CAP_SYS_RESOURCE, which this kind of host's root lacks (offline resize2fs would work, but
/// would mean stopping the container). Images are mounted with <c>nouuid</c> so a copied image mounts next to its
/// original.
/// </summary>
public sealed class ImageLayout(ProcessRunner runner, ILogger logger)
{
    public const string ImageFileName = "root.img";
    public const long DefaultSize = 2L << 30;
    private static readonly ProcessRunOptions Quick = new() { Timeout = TimeSpan.FromSeconds(60) };

    public static string ImagePath(string veDirectory) => Path.Combine(veDirectory, ImageFileName);

    /// <summary>Makes a sparse image of <paramref name="size"/> bytes with an XFS file system on it.</summary>
    public async Task CreateAsync(string image, long size, object target, CancellationToken ct)
    {
        using (var f = new FileStream(image, FileMode.CreateNew, FileAccess.Write)) f.SetLength(size);
        await runner.RunAsync("mkfs.xfs", ["-q", image], Quick with { Target = target }, ct);
    }

    public static bool IsMounted(string mountPoint) => MountGuard.MountsUnder(mountPoint).Contains(Path.GetFullPath(mountPoint).TrimEnd('/'));

    public async Task MountAsync(string image, string mountPoint, object target, CancellationToken ct)
    {
        if (IsMounted(mountPoint)) return;
        Directory.CreateDirectory(mountPoint);
        await runner.RunAsync("mount", ["-t", "xfs", "-o", "loop,nouuid", image, mountPoint], Quick with { Target = target }, ct);
    }

    /// <summary>Unmounts; the loop device goes with it (mount -o loop sets autoclear).</summary>
    public async Task UnmountAsync(string mountPoint, object target, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (IsMounted(mountPoint))
        {
            var r = await runner.RunAsync("umount", [mountPoint], Quick with { ThrowOnFailure = false, Target = target }, ct);
            if (r.ExitCode == 0) break;
            // Busy right after a container stopped: its mount namespace goes away a moment after its last process.
            if (DateTime.UtcNow > deadline) throw new VzExternalToolException("umount", r.Arguments, r.ExitCode, r.StandardError, target);
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Grows the image and its file system; online when mounted (loop capacity refresh + xfs_growfs).</summary>
    public async Task GrowAsync(string image, string mountPoint, long newSize, object target, CancellationToken ct)
    {
        var current = new FileInfo(image).Length;
        if (newSize < current)
            throw new VzInvalidArgumentException("VzDiskShrinkUnsupported",
                $"The disk is {current >> 20} MiB; XFS cannot shrink to {newSize >> 20} MiB.", target, "DiskSize")
            { RecommendedAction = "Give a size at least as large as the current one." };
        if (newSize == current) return;
        var wasMounted = IsMounted(mountPoint);
        using (var f = new FileStream(image, FileMode.Open, FileAccess.Write)) f.SetLength(newSize);
        if (!wasMounted) await MountAsync(image, mountPoint, target, ct);
        try
        {
            var loops = await runner.RunAsync("losetup", ["-j", image, "-O", "NAME", "-n"], Quick with { Target = target }, ct);
            foreach (var dev in loops.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                await runner.RunAsync("losetup", ["-c", dev], Quick with { Target = target }, ct);
            await runner.RunAsync("xfs_growfs", [mountPoint], Quick with { Target = target }, ct);
            logger.LogInformation("Grew {Image} to {Size} MiB{Online}.", image, newSize >> 20, wasMounted ? " online" : "");
        }
        finally
        {
            if (!wasMounted) await UnmountAsync(mountPoint, target, CancellationToken.None);
        }
    }
}
