using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Backups;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// Container backups: the private area as a GNU tar stream (xattrs, ACLs, numeric owners, sparse files) compressed
/// with zstd, incremental by changed files through tar's listed-incremental state, which the VE keeps in its folder
/// beside <see cref="BackupChainState"/>. A running container is frozen while its files are read, so the stream is
/// one instant of the tree. A restore extracts the full backup and then each incremental one in order (deletions
/// included), and moves the owners to the new container's id range.
/// </summary>
public sealed partial class ContainerService
{
    private const string TarStateFile = "backup.snar";
    private const string ArchiveName = "root.tar.zst";

    private static readonly string[] TarFlags = ["--zstd", "--xattrs", "--xattrs-include=*", "--acls", "--numeric-owner"];

    public async Task<BackupInfo> BackupAsync(Guid id, string destination, bool incremental, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        var (_, cfg) = RequireReady(id);
        var name = cfg.Name;
        var dest = BackupDestination.Require(destination, name);
        using var operation = VeOperationLock.Acquire(paths, id, name, $"backup to '{dest}'", TimeSpan.Zero, ct);
        using var veLock = store.AcquireVeLock(id, ct);
        (_, cfg) = RequireReady(id);
        var veDir = paths.VeDirectory(id);
        var activity = $"Backing up container {name}";
        var watch = Stopwatch.StartNew();
        string? reason = null;
        (BackupManifest Manifest, string Path) baseBackup = default;
        var chain = BackupChainState.Read(veDir);
        var state = Path.Combine(veDir, TarStateFile);
        if (incremental)
        {
            if (chain is null || !File.Exists(state)) reason = "there is no earlier backup of this container to add to";
            else if (chain.BrokenReason is { } broken) reason = broken;
            else if (BackupFolder.List(dest).FirstOrDefault(b => b.Manifest.BackupId == chain.LastBackupId) is { Path: not null } found) baseBackup = found;
            else reason = $"the backup the container's changes are tracked from ({chain.LastBackupPath}) is not in '{dest}'";
        }
        var kind = incremental && reason is null ? BackupKind.Incremental : BackupKind.Full;
        if (reason is not null) logger.LogWarning("Taking a full backup of container {Name} instead of an incremental one: {Reason}.", name, reason);
        var image = cfg.Container!.Layout == ContainerLayout.Image;
        var root = RootPath(id);
        var mountedHere = false;
        if (image && !ImageLayout.IsMounted(root))
        {
            await Images.MountAsync(ImageLayout.ImagePath(veDir), root, name, ct);
            mountedHere = true;
        }
        var manifest = new BackupManifest
        {
            BackupId = Guid.NewGuid(), VeId = id, VeName = name, VeType = VeType.Container, Kind = kind,
            ParentBackupId = kind == BackupKind.Incremental ? baseBackup.Manifest!.BackupId : null,
            CreatedAt = DateTimeOffset.UtcNow, Reason = reason, Settings = File.ReadAllText(paths.VeConfigPath(id)),
        };
        string partial = "";
        var newState = state + ".new";
        try
        {
            // Compressed size is unknown up front: the tree's allocated size is the bound checked.
            var used = await runner.RunAsync("du", ["-s", "-B1", "-x", root], new ProcessRunOptions { Target = name, Timeout = TimeSpan.FromMinutes(10) }, ct);
            BackupDestination.RequireSpace(dest, long.Parse(used.StandardOutput.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture), name);
            partial = BackupFolder.CreatePartial(dest, manifest.BackupId);
            if (kind == BackupKind.Incremental) File.Copy(state, newState, overwrite: true); else File.Delete(newState);
            var running = Live(id).Running;
            manifest.WasRunning = running;
            progress?.Report(new VzProgress(activity, kind == BackupKind.Full ? "Full backup (tar + zstd)" : "Changed files (tar + zstd)", 10));
            if (running) CgroupPlacement.SetFrozen(id, true, TimeSpan.FromSeconds(10));
            try
            {
                await runner.RunAsync("tar", [.. TarFlags, "--sparse", $"--listed-incremental={newState}", "-C", root, "-cf", Path.Combine(partial, ArchiveName), "."],
                    new ProcessRunOptions { Target = name, Timeout = TimeSpan.FromHours(6) }, ct);
            }
            finally { if (running) CgroupPlacement.SetFrozen(id, false, TimeSpan.FromSeconds(30)); }
            File.WriteAllText(Path.Combine(partial, "ve.yaml"), manifest.Settings);
            manifest.DurationSeconds = watch.Elapsed.TotalSeconds;
            var final = BackupFolder.Seal(partial, dest, manifest, ct);
            File.Move(newState, state, overwrite: true);
            new BackupChainState { LastBackupId = manifest.BackupId, LastBackupPath = final }.Write(veDir);
            progress?.Report(new VzProgress(activity, "Done", 100) { Completed = true });
            logger.LogInformation("Backed up container {Name} ({Kind}, {Bytes} bytes) to {Path}.", name, kind, manifest.DataBytes, final);
            return BackupInfo.From(manifest, final);
        }
        catch
        {
            File.Delete(newState);
            if (partial.Length > 0 && Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
            throw;
        }
        finally
        {
            if (mountedHere) await Images.UnmountAsync(root, name, CancellationToken.None);
        }
    }

    /// <summary>
    /// Creates a container from a verified backup chain: settings from the newest backup, the tree from the full
    /// backup plus every incremental one in order, owners moved to a fresh id range. A failure removes the half-made
    /// container. With <paramref name="newName"/> (or when the original id is taken) it gets a new id and MAC.
    /// </summary>
    public async Task<ContainerInfo> RestoreBackupAsync(IReadOnlyList<(BackupManifest Manifest, string Path)> chain, string? newName, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        var (top, topPath) = chain[0];
        VeConfig cfg;
        try { cfg = Yaml.Deserializer.Deserialize<VeConfig>(top.Settings) ?? throw new VzBackupCorruptException(topPath, "its settings are empty"); }
        catch (YamlDotNet.Core.YamlException ex) { throw new VzBackupCorruptException(topPath, $"its settings do not parse ({ex.Message})"); }
        if (cfg.Container is null) throw new VzBackupCorruptException(topPath, "its settings have no container section");
        var oldBase = cfg.Container.UidBase;
        if (newName is not null || store.TryGet(cfg.Id) is not null)
        {
            cfg.Id = Guid.NewGuid();
            cfg.Container.Network.MacAddress = MacAddresses.New();
            cfg.Container.Network.IpAddresses = [];
            Virtuozzo.Engine.Network.Adapters.NetworkAdapterService.PrepareForCopy(cfg);
        }
        if (newName is not null) { cfg.Name = newName; if (string.Equals(cfg.Container.Hostname, top.VeName, StringComparison.OrdinalIgnoreCase)) cfg.Container.Hostname = null; }
        cfg.CreatedAt = default;
        cfg.Snapshots = null;
        cfg.CurrentSnapshotId = null;
        VeRecord record;
        using (IdRangeAllocator.Lock(paths, ct))
        {
            cfg.Container.UidBase = IdRangeAllocator.Next(store.List());
            record = store.BeginCreate(cfg, ct);
        }
        var root = RootPath(record.Id);
        var image = cfg.Container.Layout == ContainerLayout.Image;
        try
        {
            if (image)
            {
                await Images.CreateAsync(ImageLayout.ImagePath(record.Directory), cfg.Container.DiskSize ?? ImageLayout.DefaultSize, cfg.Name, ct);
                await Images.MountAsync(ImageLayout.ImagePath(record.Directory), root, cfg.Name, ct);
            }
            else Directory.CreateDirectory(root);
            try
            {
                var ordered = chain.Reverse().ToList();
                for (var i = 0; i < ordered.Count; i++)
                {
                    progress?.Report(new VzProgress($"Restoring container {cfg.Name}", $"Extracting {Path.GetFileName(ordered[i].Path)}", 10 + 80 * i / ordered.Count));
                    await runner.RunAsync("tar", [.. TarFlags, "--listed-incremental=/dev/null", "-C", root, "-xf", Path.Combine(ordered[i].Path, ArchiveName)],
                        new ProcessRunOptions { Target = cfg.Name, Timeout = TimeSpan.FromHours(6) }, ct);
                }
                OwnershipShifter.Shift(root, oldBase, cfg.Container.UidBase, ct: ct);
            }
            finally { if (image) await Images.UnmountAsync(root, cfg.Name, CancellationToken.None); }
            PrepareVeDirectory(record.Id);
            store.CompleteCreation(record.Id);
        }
        catch
        {
            try { store.Remove(record.Id, CancellationToken.None); }
            catch (Exception ex) when (ex is VzException or IOException) { logger.LogWarning("Could not remove the half-restored container {Id}: {Error}", record.Id, ex.Message); }
            throw;
        }
        progress?.Report(new VzProgress($"Restoring container {cfg.Name}", "Done", 100) { Completed = true });
        return Describe(record.Id);
    }
}
