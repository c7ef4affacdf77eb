using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Backups;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Qcow2;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu.Backups;

/// <summary>
/// VM backups through QEMU's block layer: blockdev-backup of every disk into qcow2 files in a backup folder, with a
/// persistent dirty bitmap per disk added in the same transaction as a full backup, so the next incremental backup
/// copies only the clusters written since (sync=incremental), into a qcow2 file backed by the previous backup's. A
/// running VM is backed up live through its own QEMU; a stopped one through qemu-storage-daemon on its disks, so
/// the bitmaps carry on either way. An unclean QEMU exit leaves a bitmap "inconsistent": the next incremental backup
/// sees it, runs full and says why. The whole run holds the VE's <see cref="VeOperationLock"/>.
/// </summary>
public sealed class VmBackupService(VzPaths paths, VeStore store, VmService vms, ProcessRunner runner, ILogger logger)
{
    /// <summary>The persistent bitmap's name in each disk.</summary>
    public const string BitmapName = "vz-backup";

    /// <summary>How long the backup jobs may run before the backup is abandoned.</summary>
    public static readonly TimeSpan JobTimeout = TimeSpan.FromHours(6);

    public async Task<BackupInfo> BackupAsync(Guid id, string destination, bool incremental, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var config = Config(id);
        var name = config.Name;
        var dest = BackupDestination.Require(destination, name);
        using var operation = VeOperationLock.Acquire(paths, id, name, $"backup to '{dest}'", TimeSpan.Zero, cancellationToken);
        config = Config(id);
        var disks = config.Vm?.Disks ?? [];
        if (disks.Count == 0)
            throw new VzInvalidStateException("VzBackupNoDisks", $"The VM '{name}' has no disks to back up.", name);
        if (disks.FirstOrDefault(d => d.Format != "qcow2") is { } raw)
            throw new VzInvalidStateException("VzBackupDiskNotQcow2", $"The disk '{raw.Id}' of VM '{name}' is {raw.Format}; backups need qcow2 disks (their dirty bitmaps live in the qcow2 file).", name)
            { RecommendedAction = "Convert the disk with Convert-VzDisk -Format Qcow2 while the VM is stopped." };
        var veDir = paths.VeDirectory(id);
        var rt = vms.RuntimePaths(id);
        var activity = $"Backing up VM '{name}'";
        var watch = Stopwatch.StartNew();

        // The base an incremental backup adds to, or why there is none.
        string? reason = null;
        (BackupManifest Manifest, string Path) baseBackup = default;
        var chain = BackupChainState.Read(veDir);
        if (incremental)
        {
            if (chain is null) reason = "there is no earlier backup of this VM to add to";
            else if (chain.BrokenReason is { } broken) reason = broken;
            else if (BackupFolder.List(dest).FirstOrDefault(b => b.Manifest.BackupId == chain.LastBackupId) is { Path: not null } found) baseBackup = found;
            else reason = $"the backup the VM's changes are tracked from ({chain.LastBackupPath}) is not in '{dest}'";
            if (reason is null && !chain!.Disks.SequenceEqual(disks.Select(d => d.Id)))
                reason = "the VM's disks changed since the last backup";
        }

        var running = QemuProcess.Inspect(rt).Alive;
        FileLock? veLock = null;
        StorageDaemon? daemon = null;
        QemuMonitor monitor;
        if (running)
        {
            monitor = await QemuMonitor.OpenAsync(rt, name, cancellationToken);
        }
        else
        {
            // Held so a Start-VzVm waits instead of failing on the image locks the daemon holds.
            veLock = store.AcquireVeLock(id, cancellationToken);
            Directory.CreateDirectory(rt.RunDirectory);
            daemon = await StorageDaemon.StartAsync(runner, rt.RunDirectory, [.. disks.Select(d => (d.Id, vms.ResolvePath(id, d.Path)))], name, logger, cancellationToken);
            monitor = daemon.Monitor;
        }
        BackupManifest manifest;
        string final;
        try
        {
            var bitmaps = new Dictionary<string, DirtyBitmap?>();
            foreach (var d in disks)
                bitmaps[d.Id] = (await monitor.QueryBitmapsAsync(d.Id, cancellationToken)).FirstOrDefault(b => b.Name == BitmapName);
            if (incremental && reason is null)
            {
                if (bitmaps.Values.Any(b => b is { Inconsistent: true }))
                    reason = "the VM's dirty bitmap is inconsistent: QEMU did not exit cleanly (it was killed or crashed) since the last backup, so the changes since then are unknown";
                else if (bitmaps.Values.Any(b => b is null))
                    reason = "the VM's dirty bitmap is gone (a disk was replaced or the bitmap removed)";
            }
            var kind = incremental && reason is null ? BackupKind.Incremental : BackupKind.Full;
            if (reason is not null) logger.LogWarning("Taking a full backup of '{Name}' instead of an incremental one: {Reason}.", name, reason);
            if (kind == BackupKind.Full)
            {
                // A full backup starts a new chain: its bitmap is added with it. An inconsistent one can only be removed.
                foreach (var d in disks.Where(d => bitmaps[d.Id] is not null))
                    await monitor.BlockDirtyBitmapRemoveAsync(d.Id, BitmapName, cancellationToken);
            }
            var needed = kind == BackupKind.Full
                ? disks.Sum(d => Disks.HostFile.AllocatedBytes(vms.ResolvePath(id, d.Path)))
                : bitmaps.Values.Sum(b => b?.Count ?? 0);
            BackupDestination.RequireSpace(dest, needed, name);

            manifest = new BackupManifest
            {
                BackupId = Guid.NewGuid(), VeId = id, VeName = name, VeType = VeType.VirtualMachine, Kind = kind,
                ParentBackupId = kind == BackupKind.Incremental ? baseBackup.Manifest!.BackupId : null,
                CreatedAt = DateTimeOffset.UtcNow, Reason = reason, WasRunning = running,
                Settings = File.ReadAllText(paths.VeConfigPath(id)),
            };
            var partial = BackupFolder.CreatePartial(dest, manifest.BackupId);
            var started = new List<string>();
            var added = new List<string>();
            try
            {
                var actions = new List<QemuMonitor.BackupAction>();
                foreach (var d in disks)
                {
                    var (_, size, _) = await new QemuImg(runner).InfoAsync(vms.ResolvePath(id, d.Path), cancellationToken);
                    var file = d.Id + ".qcow2";
                    string? backing = null;
                    if (kind == BackupKind.Incremental)
                    {
                        var baseDisk = baseBackup.Manifest!.Disks.First(b => b.DiskId == d.Id);
                        backing = $"../{Path.GetFileName(baseBackup.Path)}/{baseDisk.File}";
                    }
                    var target = Path.Combine(partial, file);
                    Qcow2Creator.Create(target, new Qcow2CreateOptions { VirtualSize = size, BackingFile = backing, BackingFormat = backing is null ? null : "qcow2" }, cancellationToken);
                    var node = TargetNode(d.Id);
                    var spec = new JsonObject { ["driver"] = "qcow2", ["node-name"] = node, ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = target } };
                    // The backing chain is not opened: the job writes only the changed clusters, reads fall through at restore.
                    if (backing is not null) spec["backing"] = null;
                    await monitor.BlockdevAddAsync(spec, cancellationToken);
                    added.Add(node);
                    manifest.Disks.Add(new BackupDisk(d.Id, file, size));
                    actions.Add(new QemuMonitor.BackupAction(d.Id, node, JobId(d.Id, manifest.BackupId), BitmapName, kind == BackupKind.Incremental));
                }
                progress?.Report(new VzProgress(activity, kind == BackupKind.Full ? "Full backup" : "Incremental backup (changed clusters)", 5));
                await monitor.BackupTransactionAsync(actions, CancellationToken.None);
                started.AddRange(actions.Select(a => a.JobId));
                await WaitForJobsAsync(monitor, name, started, progress, activity, watch, cancellationToken);
                started.Clear();
                foreach (var node in added) await monitor.BlockdevDelAsync(node, CancellationToken.None);
                added.Clear();
                File.WriteAllText(Path.Combine(partial, "ve.yaml"), manifest.Settings);
                manifest.DurationSeconds = watch.Elapsed.TotalSeconds;
                progress?.Report(new VzProgress(activity, "Checksumming and sealing the backup", 95));
                final = BackupFolder.Seal(partial, dest, manifest, cancellationToken);
            }
            catch
            {
                await UndoAsync(monitor, name, started, added, kind == BackupKind.Full ? disks.Select(d => d.Id) : [], partial);
                throw;
            }
        }
        finally
        {
            if (daemon is not null) await daemon.DisposeAsync();
            else await monitor.DisposeAsync();
            veLock?.Dispose();
        }
        new BackupChainState { LastBackupId = manifest.BackupId, LastBackupPath = final, Disks = [.. disks.Select(d => d.Id)] }.Write(veDir);
        progress?.Report(new VzProgress(activity, "Done", 100) { Completed = true });
        logger.LogInformation("Backed up '{Name}' ({Kind}, {Bytes} bytes) to {Path}.", name, manifest.Kind, manifest.DataBytes, final);
        return BackupInfo.From(manifest, final);
    }

    /// <summary>
    /// Creates a VM from a verified backup chain (<see cref="BackupRestorer"/> checks every checksum first): the
    /// settings of the newest backup, each disk written by qemu-img convert through the chain. A failure part-way
    /// removes the half-created VM. With <paramref name="newName"/> (or when the original id is taken) the VM gets a
    /// new id and MAC.
    /// </summary>
    public async Task<VmInfo> RestoreAsync(IReadOnlyList<(BackupManifest Manifest, string Path)> chain, string? newName, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var (top, topPath) = chain[0];
        var full = topPath;
        var activity = $"Restoring backup '{Path.GetFileName(full)}'";
        VeConfig config;
        try { config = Yaml.Deserializer.Deserialize<VeConfig>(top.Settings) ?? throw new VzBackupCorruptException(full, "its settings are empty"); }
        catch (YamlDotNet.Core.YamlException ex) { throw new VzBackupCorruptException(full, $"its settings do not parse ({ex.Message})"); }
        if (config.Vm is null) throw new VzBackupCorruptException(full, "its settings have no VM section");
        if (newName is not null || store.TryGet(config.Id) is not null)
        {
            config.Id = Guid.NewGuid();
            config.Vm.MacAddress = MacAddresses.New();
            Network.Adapters.NetworkAdapterService.PrepareForCopy(config);
        }
        if (newName is not null) config.Name = newName;
        config.CreatedAt = default;
        config.Snapshots = null;
        config.CurrentSnapshotId = null;
        config.Vm.Pending = null;
        config.Vm.Dimms.Clear();
        config.Vm.BootMemorySize = null;
        config.Vm.Disks = [.. top.Disks.Select(d => new VmDisk { Id = d.DiskId, Path = d.DiskId + ".qcow2", Format = "qcow2" })];
        var needed = top.Disks.Sum(d => d.VirtualSize);
        Directory.CreateDirectory(paths.PrivateRoot);
        if (Host.FreeSpace.AvailableBytes(paths.PrivateRoot) < chain.Sum(c => c.Manifest.DataBytes))
            throw new VzInsufficientResourcesException("VzRestoreInsufficientSpace", $"Restoring '{full}' needs up to {needed / 1048576.0:0} MiB under '{paths.PrivateRoot}'.", full)
            { RecommendedAction = "Free space in the data root, then restore." };
        var record = store.BeginCreate(config, cancellationToken);
        try
        {
            var i = 0;
            foreach (var d in top.Disks)
            {
                var target = Path.Combine(record.Directory, d.DiskId + ".qcow2");
                var (from, to) = (10 + 85 * i / top.Disks.Count, 10 + 85 * (i + 1) / top.Disks.Count);
                await new QemuImg(runner).ConvertAsync(Path.Combine(topPath, d.File), target,
                    p => progress?.Report(new VzProgress(activity, $"Disk {d.DiskId}", from + (int)((to - from) * p / 100))), cancellationToken, "qcow2");
                i++;
            }
            store.CompleteCreation(config.Id);
        }
        catch
        {
            try { store.Remove(config.Id, CancellationToken.None); }
            catch (Exception ex) when (ex is VzException or IOException) { logger.LogWarning("Could not remove the half-restored VM {Id}: {Error}", config.Id, ex.Message); }
            throw;
        }
        progress?.Report(new VzProgress(activity, "Done", 100) { Completed = true });
        logger.LogInformation("Restored VM '{Name}' from {Path}.", config.Name, full);
        return vms.Describe(store.TryGet(config.Id)!);
    }

    private async Task WaitForJobsAsync(QemuMonitor monitor, string name, IReadOnlyList<string> jobs, IProgress<VzProgress>? progress, string activity, Stopwatch watch, CancellationToken cancellationToken)
    {
        var left = new HashSet<string>(jobs);
        while (left.Count > 0)
        {
            if (watch.Elapsed > JobTimeout)
                throw new VzTimeoutException("VzBackupTimeout", $"The backup of '{name}' did not finish within {JobTimeout.TotalHours:0} hours.", name, JobTimeout);
            long done = 0, total = 0;
            foreach (var job in jobs)
            {
                var st = await monitor.QueryJobAsync(job, CancellationToken.None);
                if (st is null) { left.Remove(job); continue; }
                done += st.CurrentProgress;
                total += st.TotalProgress;
                if (st.Status != "concluded") continue;
                if (!left.Remove(job)) continue;
                await monitor.JobDismissAsync(job, CancellationToken.None);
                if (st.Error is { } error)
                    throw new VzInvalidStateException("VzBackupFailed", $"The backup of '{name}' failed: {error}. No backup was kept.", name)
                    { RecommendedAction = error.Contains("space", StringComparison.OrdinalIgnoreCase) ? "Free space in the destination or choose another one." : "Check the destination and the VM's disks (Test-VzDisk), then retry." };
            }
            if (total > 0)
            {
                var mib = done / 1048576.0;
                progress?.Report(new VzProgress(activity, $"{mib:0} of {total / 1048576.0:0} MiB, {mib / Math.Max(watch.Elapsed.TotalSeconds, 0.001):0} MiB/s",
                    (int)Math.Clamp(5 + 85 * done / total, 5, 90)));
            }
            if (left.Count > 0) await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>After a failed backup: jobs cancelled, targets closed, the partial folder deleted, and a new chain's bitmaps removed.</summary>
    private async Task UndoAsync(QemuMonitor monitor, string name, IEnumerable<string> jobs, IEnumerable<string> targets, IEnumerable<string> newBitmaps, string partial)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        foreach (var job in jobs)
        {
            try
            {
                await monitor.JobCancelAsync(job, bound.Token);
                while (await monitor.QueryJobAsync(job, bound.Token) is { } st && st.Status != "concluded") await Task.Delay(100, bound.Token);
                await monitor.JobDismissAsync(job, bound.Token);
            }
            catch (Exception ex) when (ex is VzException or OperationCanceledException) { logger.LogDebug("Cancelling {Job}: {Error}", job, ex.Message); }
        }
        foreach (var node in targets)
        {
            try { await monitor.BlockdevDelAsync(node, bound.Token); }
            catch (Exception ex) when (ex is VzException or OperationCanceledException) { logger.LogDebug("Closing {Node}: {Error}", node, ex.Message); }
        }
        // The bitmaps added with a failed full backup track from a backup that does not exist.
        foreach (var disk in newBitmaps)
        {
            try { await monitor.BlockDirtyBitmapRemoveAsync(disk, BitmapName, bound.Token); }
            catch (Exception ex) when (ex is VzException or OperationCanceledException) { logger.LogDebug("Removing the bitmap of {Disk}: {Error}", disk, ex.Message); }
        }
        try { Directory.Delete(partial, recursive: true); }
        catch (IOException ex) { logger.LogWarning("Could not delete the partial backup {Path} of '{Name}': {Error}", partial, name, ex.Message); }
    }

    private static string TargetNode(string diskId) => "vzbk-" + diskId;

    private static string JobId(string diskId, Guid backupId) => $"vzbk-{diskId}-{backupId:N}"[..24];

    private VeConfig Config(Guid id)
    {
        var record = store.TryGet(id) ?? throw new VzNotFoundException("VzVmNotFound", $"No VM with id {id} exists on this host.", id);
        return record.Config is { Type: VeType.VirtualMachine } c ? c
            : throw new VzNotFoundException("VzVmNotFound", $"'{record.DisplayName}' is not a VM.", id);
    }
}
