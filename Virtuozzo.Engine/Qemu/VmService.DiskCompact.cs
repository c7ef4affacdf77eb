using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Disks.Compact;
using Virtuozzo.Engine.Qemu.Process;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Online compact for Optimize-VzDisk: the guest agent trims the file systems of a running VM.</summary>
public sealed partial class VmService : IOnlineDiskCompactor
{
    /// <summary>guest-fstrim walks every mounted file system: generous on a slow (TCG, loaded) host.</summary>
    private static readonly TimeSpan TrimTimeout = TimeSpan.FromMinutes(10);

    public async Task<(string VmName, IReadOnlyList<DiskTrimmedFileSystem> Trimmed)?> TryTrimOnlineAsync(string path, CancellationToken cancellationToken)
    {
        foreach (var record in store.List())
        {
            if (record.Config?.Vm is not { } vm) continue;
            if (!vm.Disks.Any(d => string.Equals(ResolvePath(record.Id, d.Path), path, StringComparison.Ordinal))) continue;
            var rt = RuntimePaths(record.Id);
            if (!QemuProcess.Inspect(rt).Alive) return null;
            var name = record.DisplayName;
            // The guest sees its disks, not the host's files: it trims all its file systems, and QEMU (discard=unmap
            // on the disk's nodes) frees the clusters of this image among them.
            // A guest without a running agent fails within a minute (VzGuestAgent... errors), not after the trim's timeout.
            await using var agent = await OpenAgentAsync(rt, name, TimeSpan.FromMinutes(1), cancellationToken);
            var results = await agent.FsTrimAsync(TrimTimeout, cancellationToken);
            foreach (var failed in results.Where(r => r.Error is not null))
                logger.LogDebug("guest-fstrim in '{Name}' skipped {Path}: {Error}", name, failed.Path, failed.Error);
            var trimmed = results.Where(r => r.Error is null)
                .Select(r => new DiskTrimmedFileSystem { Location = r.Path, TrimmedBytes = r.TrimmedBytes }).ToList();
            logger.LogInformation("guest-fstrim in '{Name}' trimmed {Count} file systems", name, trimmed.Count);
            return (name, trimmed);
        }
        return null;
    }
}
