using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Qcow2;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Snapshots;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu.Snapshots;

/// <summary>
/// VM snapshots as qcow2 internal snapshots, one tag per snapshot in every disk of the VM, so a snapshot is
/// consistent across disks and deleting one never touches another's clusters (qcow2 refcounts keep shared data).
/// Stopped VMs go through qemu-img; running ones through QMP: a transaction of blockdev-snapshot-internal-sync (all
/// disks at one instant) inside a guest file system freeze, or the snapshot-save job when RAM state is wanted. The
/// tree (parents, current position) lives in ve.yaml. Every operation holds the VE's <see cref="VeOperationLock"/>.
/// </summary>
public sealed class VmSnapshotService(VzPaths paths, VeStore store, VmService vms, ProcessRunner runner, ILogger logger) : IVeSnapshots
{
    /// <summary>How long a snapshot-save/-load job (RAM state) may run.</summary>
    public static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The snapshots of a VM, oldest first.</summary>
    public IReadOnlyList<VeSnapshotInfo> List(Guid id)
    {
        var config = Config(id);
        return [.. SnapshotTree.All(config).OrderBy(s => s.CreatedAt).Select(s => VeSnapshotInfo.From(config, s))];
    }

    public async Task<VeSnapshotInfo> CheckpointAsync(Guid id, string snapshotName, bool includeMemory, string? description, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var config = Config(id);
        var name = config.Name;
        SnapshotTree.RequireFree(config, snapshotName);
        using var operation = VeOperationLock.Acquire(paths, id, name, $"snapshot '{snapshotName}'", TimeSpan.Zero, cancellationToken);
        config = Config(id);
        SnapshotTree.RequireFree(config, snapshotName);
        var disks = RequireQcow2Disks(config);
        var rt = vms.RuntimePaths(id);
        var running = QemuProcess.Inspect(rt).Alive;
        var activity = $"Snapshot '{snapshotName}' of VM '{name}'";
        var snapshot = new VeSnapshot
        {
            Id = Guid.NewGuid(), Name = snapshotName, CreatedAt = DateTimeOffset.UtcNow, Description = description,
            WasRunning = running, IncludesMemory = includeMemory, Disks = [.. disks.Select(d => d.Id)],
        };
        if (!running)
        {
            if (includeMemory)
                throw new VzInvalidStateException("VzVmNotRunning", $"The VM '{name}' is stopped: it has no RAM state to save.", name)
                { RecommendedAction = "Leave out -IncludeMemory (a stopped VM's disks are consistent as they are), or start the VM first." };
            using var veLock = store.AcquireVeLock(id, cancellationToken);
            progress?.Report(new VzProgress(activity, "Creating internal snapshots (qemu-img)", 10));
            await OfflineAsync(config, disks, "-c", snapshotName, rollbackWith: "-d", cancellationToken);
            snapshot.Consistency = VeSnapshotConsistency.Stopped;
            return Record(veLock, id, snapshot);
        }
        if (includeMemory)
        {
            progress?.Report(new VzProgress(activity, "Saving RAM and disks (the guest pauses meanwhile)", 10));
            var watch = Stopwatch.StartNew();
            await RunJobAsync(rt, name, "snapshot save", (m, job, ct) => m.SnapshotSaveAsync(job, snapshotName, disks[0].Id, disks.Select(d => d.Id), ct), progress, activity, cancellationToken);
            snapshot.Consistency = VeSnapshotConsistency.Memory;
            snapshot.FrozenMilliseconds = watch.ElapsedMilliseconds;
        }
        else
        {
            progress?.Report(new VzProgress(activity, "Freezing the guest's file systems", 10));
            var freeze = await GuestFreeze.TryFreezeAsync(rt, name, logger, cancellationToken);
            try
            {
                progress?.Report(new VzProgress(activity, "Creating internal snapshots of every disk in one transaction", 40));
                await using var monitor = await QemuMonitor.OpenAsync(rt, name, CancellationToken.None);
                // Not cancellable once sent: the transaction is quick and atomic, and the thaw follows at once.
                await monitor.SnapshotInternalTransactionAsync(disks.Select(d => d.Id), snapshotName, CancellationToken.None);
            }
            finally
            {
                if (freeze is not null) await freeze.DisposeAsync();
            }
            snapshot.Consistency = freeze is { TimedOut: false } ? VeSnapshotConsistency.Application : VeSnapshotConsistency.Crash;
            snapshot.FrozenMilliseconds = freeze is null ? null : (long)freeze.FrozenDuration.TotalMilliseconds;
            if (snapshot.Consistency == VeSnapshotConsistency.Crash)
                logger.LogWarning("Snapshot '{Snapshot}' of '{Name}' is crash-consistent: the guest's file systems were not frozen.", snapshotName, name);
        }
        using (var veLock = store.AcquireVeLock(id, cancellationToken))
        {
            var info = Record(veLock, id, snapshot);
            progress?.Report(new VzProgress(activity, "Done", 100) { Completed = true });
            return info;
        }
    }

    /// <summary>
    /// Puts the VM back to a snapshot. With RAM state the guest resumes where it was (a stopped VM is started for
    /// it); a disk-only snapshot needs the VM off: a running VM is powered off first (its current state is what the
    /// restore discards) and stays off, as Hyper-V does.
    /// </summary>
    public async Task<VeSnapshotInfo> RestoreAsync(Guid id, string snapshotName, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var config = Config(id);
        var name = config.Name;
        using var operation = VeOperationLock.Acquire(paths, id, name, $"restore of snapshot '{snapshotName}'", TimeSpan.Zero, cancellationToken);
        config = Config(id);
        var snapshot = SnapshotTree.Find(config, snapshotName);
        var disks = RequireQcow2Disks(config);
        RequireSameDisks(config, snapshot, disks);
        var rt = vms.RuntimePaths(id);
        var activity = $"Restoring VM '{name}' to snapshot '{snapshotName}'";
        if (snapshot.IncludesMemory)
        {
            if (!QemuProcess.Inspect(rt).Alive)
            {
                progress?.Report(new VzProgress(activity, "Starting QEMU to load the saved state into", 5));
                await vms.StartAsync(id, wait: false, TimeSpan.FromSeconds(60), null, cancellationToken);
            }
            // QEMU refuses to rewind a disk that has dirty bitmaps; the backup chain they tracked ends here.
            await using (var monitor = await QemuMonitor.OpenAsync(rt, name, cancellationToken))
                foreach (var d in disks)
                    if ((await monitor.QueryBitmapsAsync(d.Id, cancellationToken)).Any(b => b.Name == Backups.VmBackupService.BitmapName))
                        await monitor.BlockDirtyBitmapRemoveAsync(d.Id, Backups.VmBackupService.BitmapName, cancellationToken);
            progress?.Report(new VzProgress(activity, "Loading RAM and disks", 20));
            await RunJobAsync(rt, name, "snapshot load", (m, job, ct) => m.SnapshotLoadAsync(job, snapshotName, disks[0].Id, disks.Select(d => d.Id), ct), progress, activity, cancellationToken);
            await using (var monitor = await QemuMonitor.OpenAsync(rt, name, cancellationToken))
                if (await monitor.QueryStatusAsync(cancellationToken) is "paused" or "restore-vm") await monitor.ContAsync(cancellationToken);
        }
        else
        {
            if (QemuProcess.Inspect(rt).Alive)
            {
                progress?.Report(new VzProgress(activity, "Powering the VM off", 5));
                await vms.StopAsync(id, VmStopMode.Kill, TimeSpan.FromSeconds(30), null, cancellationToken);
            }
            using var veLock = store.AcquireVeLock(id, cancellationToken);
            progress?.Report(new VzProgress(activity, "Reverting every disk (qemu-img)", 30));
            await RemoveBackupBitmapsAsync(config, disks, cancellationToken);
            await OfflineAsync(config, disks, "-a", snapshotName, rollbackWith: null, cancellationToken);
        }
        Engine.Backups.BackupChainState.Break(paths.VeDirectory(id), $"the VM was restored to snapshot '{snapshotName}' since its last backup");
        VeConfig written;
        using (var veLock = store.AcquireVeLock(id, cancellationToken))
            written = store.UpdateLocked(veLock, id, c => SnapshotTree.MarkRestored(c, snapshot.Id));
        progress?.Report(new VzProgress(activity, "Done", 100) { Completed = true });
        logger.LogInformation("Restored '{Name}' to snapshot '{Snapshot}'.", name, snapshotName);
        return VeSnapshotInfo.From(written, SnapshotTree.Find(written, snapshotName));
    }

    /// <summary>
    /// Deletes one snapshot from every disk (live through QMP, offline through qemu-img) and from the tree; its
    /// children take its parent. A disk that no longer holds the tag (an earlier removal stopped half-way) is skipped,
    /// so a retry finishes the job.
    /// </summary>
    public async Task RemoveAsync(Guid id, string snapshotName, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var config = Config(id);
        var name = config.Name;
        using var operation = VeOperationLock.Acquire(paths, id, name, $"removal of snapshot '{snapshotName}'", TimeSpan.Zero, cancellationToken);
        config = Config(id);
        var snapshot = SnapshotTree.Find(config, snapshotName);
        var rt = vms.RuntimePaths(id);
        var holding = (config.Vm?.Disks ?? []).Where(d => d.Format == "qcow2" && Qcow2SnapshotNames.Read(vms.ResolvePath(id, d.Path)).Contains(snapshotName)).ToList();
        progress?.Report(new VzProgress($"Removing snapshot '{snapshotName}' of VM '{name}'", $"{holding.Count} disk(s)", 10));
        using var veLock = store.AcquireVeLock(id, cancellationToken);
        if (holding.Count > 0)
        {
            if (QemuProcess.Inspect(rt).Alive)
            {
                await using var monitor = await QemuMonitor.OpenAsync(rt, name, cancellationToken);
                foreach (var disk in holding)
                    await monitor.SnapshotDeleteInternalAsync(disk.Id, snapshotName, CancellationToken.None);
            }
            else
            {
                await OfflineAsync(config, holding, "-d", snapshotName, rollbackWith: null, cancellationToken);
            }
        }
        store.UpdateLocked(veLock, id, c => SnapshotTree.Remove(c, snapshot.Id));
        progress?.Report(new VzProgress($"Removing snapshot '{snapshotName}' of VM '{name}'", "Done", 100) { Completed = true });
        logger.LogInformation("Removed snapshot '{Snapshot}' of '{Name}'.", snapshotName, name);
    }

    private VeSnapshotInfo Record(FileLock veLock, Guid id, VeSnapshot snapshot)
    {
        var written = store.UpdateLocked(veLock, id, c => SnapshotTree.Add(c, snapshot));
        logger.LogInformation("Snapshot '{Snapshot}' of '{Name}' taken ({Consistency}).", snapshot.Name, written.Name, snapshot.Consistency);
        return VeSnapshotInfo.From(written, snapshot);
    }

    /// <summary>
    /// Runs qemu-img snapshot <paramref name="flag"/> on each disk. When one fails and <paramref name="rollbackWith"/>
    /// is given, the disks done so far are undone with it, so a snapshot exists on all disks or on none.
    /// </summary>
    private async Task OfflineAsync(VeConfig config, IReadOnlyList<VmDisk> disks, string flag, string tag, string? rollbackWith, CancellationToken cancellationToken)
    {
        var done = new List<string>();
        try
        {
            foreach (var disk in disks)
            {
                var path = vms.ResolvePath(config.Id, disk.Path);
                await runner.RunAsync("qemu-img", ["snapshot", flag, tag, path], new ProcessRunOptions { Target = config.Name, Timeout = TimeSpan.FromMinutes(10) }, cancellationToken);
                done.Add(path);
            }
        }
        catch when (rollbackWith is not null)
        {
            foreach (var path in done)
            {
                try { await runner.RunAsync("qemu-img", ["snapshot", rollbackWith, tag, path], new ProcessRunOptions { Target = config.Name }, CancellationToken.None); }
                catch (VzException ex) { logger.LogWarning("Could not undo the snapshot '{Tag}' in {Path}: {Error}", tag, path, ex.Message); }
            }
            throw;
        }
    }

    /// <summary>QEMU refuses to rewind a disk that has dirty bitmaps: the backup bitmap goes (the next backup is full).</summary>
    private async Task RemoveBackupBitmapsAsync(VeConfig config, IReadOnlyList<VmDisk> disks, CancellationToken cancellationToken)
    {
        foreach (var disk in disks)
        {
            var path = vms.ResolvePath(config.Id, disk.Path);
            var r = await runner.RunAsync("qemu-img", ["bitmap", "--remove", path, Backups.VmBackupService.BitmapName],
                new ProcessRunOptions { Target = config.Name, ThrowOnFailure = false }, cancellationToken);
            if (r.ExitCode != 0 && !r.StandardError.Contains("not found", StringComparison.OrdinalIgnoreCase))
                throw new VzExternalToolException(r.Tool, r.Arguments, r.ExitCode, r.StandardError, config.Name);
        }
    }

    /// <summary>Starts a QEMU job and waits for it to conclude (not cancellable half-way: QEMU cannot cancel these jobs).</summary>
    private static async Task RunJobAsync(VmRuntimePaths rt, string name, string kind, Func<QemuMonitor, string, CancellationToken, Task> start,
        IProgress<VzProgress>? progress, string activity, CancellationToken cancellationToken)
    {
        var jobId = $"vz-{kind.Replace(' ', '-')}-{Guid.NewGuid():N}"[..24];
        await using var monitor = await QemuMonitor.OpenAsync(rt, name, cancellationToken);
        await start(monitor, jobId, CancellationToken.None);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var job = await monitor.QueryJobAsync(jobId, CancellationToken.None);
            if (job is null or { Status: "concluded" or "null" })
            {
                if (job is not null) await monitor.JobDismissAsync(jobId, CancellationToken.None);
                if (job?.Error is { } error)
                    throw new VzInvalidStateException("VzSnapshotJobFailed", $"QEMU's {kind} for '{name}' failed: {error}", name)
                    { RecommendedAction = "Check the VM's disks with Test-VzDisk and the free space of its folder." };
                return;
            }
            if (watch.Elapsed > JobTimeout)
                throw new VzTimeoutException("VzSnapshotJobTimeout", $"QEMU's {kind} for '{name}' did not finish within {JobTimeout.TotalMinutes:0} minutes; it still runs in QEMU.", name, JobTimeout);
            if (job.TotalProgress > 0)
                progress?.Report(new VzProgress(activity, $"{kind}: {job.Status}", (int)Math.Clamp(20 + 75 * job.CurrentProgress / job.TotalProgress, 20, 95)));
            await Task.Delay(200, CancellationToken.None);
        }
    }

    private VeConfig Config(Guid id)
    {
        var record = store.TryGet(id) ?? throw new VzNotFoundException("VzVmNotFound", $"No VM with id {id} exists on this host.", id);
        return record.Config is { Type: VeType.VirtualMachine } c ? c
            : throw new VzNotFoundException("VzVmNotFound", $"'{record.DisplayName}' is not a VM.", id);
    }

    private static List<VmDisk> RequireQcow2Disks(VeConfig config)
    {
        var disks = config.Vm?.Disks ?? [];
        if (disks.Count == 0)
            throw new VzInvalidStateException("VzSnapshotNoDisks", $"The VM '{config.Name}' has no disks to snapshot.", config.Name)
            { RecommendedAction = "Add a qcow2 disk with Add-VzVmDisk first." };
        if (disks.FirstOrDefault(d => d.Format != "qcow2") is { } raw)
            throw new VzInvalidStateException("VzSnapshotDiskNotQcow2", $"The disk '{raw.Id}' of VM '{config.Name}' is {raw.Format}; snapshots need every disk in qcow2.", config.Name)
            { RecommendedAction = "Convert the disk with Convert-VzDisk -Format Qcow2 while the VM is stopped." };
        return [.. disks];
    }

    /// <summary>A restore needs the disks the snapshot was taken of: a disk added or removed since would be left out or missing.</summary>
    private void RequireSameDisks(VeConfig config, VeSnapshot snapshot, IReadOnlyList<VmDisk> disks)
    {
        var lacking = disks.Where(d => !Qcow2SnapshotNames.Read(vms.ResolvePath(config.Id, d.Path)).Contains(snapshot.Name)).Select(d => d.Id).ToList();
        var missing = snapshot.Disks.Except(disks.Select(d => d.Id)).ToList();
        if (lacking.Count > 0 || missing.Count > 0)
            throw new VzInvalidStateException("VzSnapshotDisksChanged",
                $"The disks of VM '{config.Name}' changed since snapshot '{snapshot.Name}': " +
                string.Join("; ", new[] { lacking.Count > 0 ? $"without the snapshot: {string.Join(", ", lacking)}" : null, missing.Count > 0 ? $"removed since: {string.Join(", ", missing)}" : null }.Where(s => s is not null)) + ".",
                config.Name)
            { RecommendedAction = "Detach disks added after the snapshot (Remove-VzVmDisk -KeepFile) or re-attach the removed ones, then restore." };
    }
}
