using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Snapshots;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// Container snapshots: a copy of the private area under <c>snapshots/&lt;id&gt;/</c> in the VE's folder (so removing
/// the container removes them). Image layout: the XFS image is reflinked (cp --reflink=always; where the data root's
/// file system cannot, a full sparse copy, with a warning) inside a cgroup freeze plus an fsfreeze of the mounted
/// image, which makes the copy a clean file system. Directory layout: cp -a of the tree (owners, modes, xattrs,
/// ACLs and hard links kept), frozen while it runs if the container does. A restore puts the copy back whole; the
/// tree in ve.yaml is the one VMs use (<see cref="SnapshotTree"/>).
/// </summary>
public sealed class ContainerSnapshotService(VzPaths paths, VeStore store, ContainerService containers, ProcessRunner runner, ILogger logger) : IVeSnapshots
{
    private const string SnapshotsFolder = "snapshots";

    /// <summary>Whether the last reflink attempt on this data root failed (so later snapshots skip straight to the copy).</summary>
    private bool? reflinkWorks;

    public IReadOnlyList<VeSnapshotInfo> List(Guid id)
    {
        var config = Config(id);
        return [.. SnapshotTree.All(config).OrderBy(s => s.CreatedAt).Select(s => VeSnapshotInfo.From(config, s))];
    }

    public async Task<VeSnapshotInfo> CheckpointAsync(Guid id, string snapshotName, string? description, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var config = Config(id);
        var name = config.Name;
        SnapshotTree.RequireFree(config, snapshotName);
        using var operation = VeOperationLock.Acquire(paths, id, name, $"snapshot '{snapshotName}'", TimeSpan.Zero, cancellationToken);
        using var veLock = store.AcquireVeLock(id, cancellationToken);
        config = Config(id);
        SnapshotTree.RequireFree(config, snapshotName);
        var snapshot = new VeSnapshot { Id = Guid.NewGuid(), Name = snapshotName, CreatedAt = DateTimeOffset.UtcNow, Description = description };
        var veDir = paths.VeDirectory(id);
        var target = Path.Combine(veDir, SnapshotsFolder, snapshot.Id.ToString("N"));
        Directory.CreateDirectory(target);
        var running = containers.Live(id).Running;
        snapshot.WasRunning = running;
        var activity = $"Snapshot '{snapshotName}' of container {name}";
        try
        {
            var image = config.Container!.Layout == ContainerLayout.Image;
            progress?.Report(new VzProgress(activity, image ? "Reflinking the root image" : "Copying the root tree", 10));
            var watch = new Stopwatch();
            if (running)
            {
                containers.CgroupPlacement.SetFrozen(id, true, TimeSpan.FromSeconds(10));
                watch.Start();
            }
            try
            {
                if (image) await CopyImageAsync(veDir, target, running, name, cancellationToken);
                else await runner.RunAsync("cp", ["-a", "--reflink=auto", "--", Path.Combine(veDir, "root"), Path.Combine(target, "root")],
                    new ProcessRunOptions { Timeout = TimeSpan.FromHours(2), Target = name }, cancellationToken);
            }
            finally
            {
                if (running)
                {
                    containers.CgroupPlacement.SetFrozen(id, false, TimeSpan.FromSeconds(30));
                    watch.Stop();
                }
            }
            snapshot.Consistency = running ? VeSnapshotConsistency.Application : VeSnapshotConsistency.Stopped;
            snapshot.FrozenMilliseconds = running ? watch.ElapsedMilliseconds : null;
            var written = store.UpdateLocked(veLock, id, c => SnapshotTree.Add(c, snapshot));
            progress?.Report(new VzProgress(activity, "Done", 100) { Completed = true });
            logger.LogInformation("Snapshot '{Snapshot}' of container {Name} taken.", snapshotName, name);
            return VeSnapshotInfo.From(written, snapshot);
        }
        catch
        {
            try { Directory.Delete(target, recursive: true); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>
    /// Reflinks the image where the file system can (instant, so the freeze lasts milliseconds), else copies it
    /// sparsely and warns. A mounted image is fsfrozen around the copy so its XFS is clean in the snapshot.
    /// </summary>
    private async Task CopyImageAsync(string veDir, string target, bool mounted, string name, CancellationToken ct)
    {
        var image = ImageLayout.ImagePath(veDir);
        var root = Path.Combine(veDir, "root");
        var copy = Path.Combine(target, ImageLayout.ImageFileName);
        var frozenFs = mounted && ImageLayout.IsMounted(root);
        if (frozenFs) await runner.RunAsync("fsfreeze", ["-f", root], new ProcessRunOptions { Target = name, Timeout = TimeSpan.FromSeconds(30) }, ct);
        try
        {
            if (reflinkWorks != false)
            {
                var r = await runner.RunAsync("cp", ["--reflink=always", "--sparse=always", "--", image, copy], new ProcessRunOptions { Target = name, ThrowOnFailure = false, Timeout = TimeSpan.FromMinutes(5) }, CancellationToken.None);
                reflinkWorks = r.ExitCode == 0;
                if (reflinkWorks == true) return;
                File.Delete(copy);
            }
            logger.LogWarning("The data root's file system cannot reflink (XFS with reflink=1 or Btrfs can): copying the image of {Name} in full{Frozen}.", name, mounted ? "; the container stays frozen meanwhile" : "");
            await runner.RunAsync("cp", ["--sparse=always", "--", image, copy], new ProcessRunOptions { Target = name, Timeout = TimeSpan.FromHours(2) }, CancellationToken.None);
        }
        finally
        {
            if (frozenFs) await runner.RunAsync("fsfreeze", ["-u", root], new ProcessRunOptions { Target = name, Timeout = TimeSpan.FromSeconds(30) }, CancellationToken.None);
        }
    }

    /// <summary>Puts the private area back as the snapshot holds it; a running container is stopped first (kill) and stays stopped.</summary>
    public async Task<VeSnapshotInfo> RestoreAsync(Guid id, string snapshotName, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var config = Config(id);
        var name = config.Name;
        using var operation = VeOperationLock.Acquire(paths, id, name, $"restore of snapshot '{snapshotName}'", TimeSpan.Zero, cancellationToken);
        var snapshot = SnapshotTree.Find(Config(id), snapshotName);
        var veDir = paths.VeDirectory(id);
        var source = Path.Combine(veDir, SnapshotsFolder, snapshot.Id.ToString("N"));
        var activity = $"Restoring container {name} to snapshot '{snapshotName}'";
        if (!Directory.Exists(source))
            throw new VzInvalidStateException("VzSnapshotDataMissing", $"The data of snapshot '{snapshotName}' of {name} is missing ({source}).", name)
            { RecommendedAction = "Remove the snapshot with Remove-VzSnapshot." };
        if (containers.Live(id).Running)
        {
            progress?.Report(new VzProgress(activity, "Stopping the container", 5));
            await containers.StopAsync(id, kill: true, TimeSpan.FromSeconds(30), cancellationToken);
        }
        using (var veLock = store.AcquireVeLock(id, cancellationToken))
        {
            progress?.Report(new VzProgress(activity, "Putting the private area back", 20));
            if (config.Container!.Layout == ContainerLayout.Image)
            {
                var image = ImageLayout.ImagePath(veDir);
                var tmp = image + ".restoring";
                await runner.RunAsync("cp", ["--reflink=auto", "--sparse=always", "--", Path.Combine(source, ImageLayout.ImageFileName), tmp], new ProcessRunOptions { Target = name, Timeout = TimeSpan.FromHours(2) }, cancellationToken);
                File.Move(tmp, image, overwrite: true);
            }
            else
            {
                var root = Path.Combine(veDir, "root");
                var tmp = root + ".restoring";
                var old = root + ".replaced";
                if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
                await runner.RunAsync("cp", ["-a", "--reflink=auto", "--", Path.Combine(source, "root"), tmp], new ProcessRunOptions { Target = name, Timeout = TimeSpan.FromHours(2) }, cancellationToken);
                // Swap by renames so an interruption leaves either tree whole, never a half-copied root.
                Directory.Move(root, old);
                Directory.Move(tmp, root);
                await runner.RunAsync("rm", ["-rf", "--one-file-system", "--", old], new ProcessRunOptions { Target = name, Timeout = TimeSpan.FromHours(1) }, CancellationToken.None);
            }
            var written = store.UpdateLocked(veLock, id, c => SnapshotTree.MarkRestored(c, snapshot.Id));
            Backups.BackupChainState.Break(veDir, $"the container was restored to snapshot '{snapshotName}' since its last backup");
            progress?.Report(new VzProgress(activity, "Done", 100) { Completed = true });
            return VeSnapshotInfo.From(written, SnapshotTree.Find(written, snapshotName));
        }
    }

    public async Task RemoveAsync(Guid id, string snapshotName, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var config = Config(id);
        using var operation = VeOperationLock.Acquire(paths, id, config.Name, $"removal of snapshot '{snapshotName}'", TimeSpan.Zero, cancellationToken);
        using var veLock = store.AcquireVeLock(id, cancellationToken);
        var snapshot = SnapshotTree.Find(Config(id), snapshotName);
        var data = Path.Combine(paths.VeDirectory(id), SnapshotsFolder, snapshot.Id.ToString("N"));
        // Out of the tree first: a removal stopped half-way leaves an orphan folder, never a listed snapshot without data.
        store.UpdateLocked(veLock, id, c => SnapshotTree.Remove(c, snapshot.Id));
        if (Directory.Exists(data))
            await runner.RunAsync("rm", ["-rf", "--one-file-system", "--", data], new ProcessRunOptions { Target = config.Name, Timeout = TimeSpan.FromHours(1) }, CancellationToken.None);
        logger.LogInformation("Removed snapshot '{Snapshot}' of container {Name}.", snapshotName, config.Name);
    }

    private VeConfig Config(Guid id)
    {
        var record = store.TryGet(id) ?? throw new VzNotFoundException("VzContainerNotFound", $"No container with id {id} exists on this host.", id);
        return record.Config is { Type: VeType.Container, Container: not null } c ? c
            : throw new VzNotFoundException("VzContainerNotFound", $"'{record.DisplayName}' is not a container.", id);
    }
}
