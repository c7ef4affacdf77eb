using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Removing, renaming, cloning (full and linked) and exporting VMs.</summary>
public sealed partial class VmService
{
    /// <summary>Deletes a VM. <paramref name="force"/> powers a running VM off first; linked clones always block it.</summary>
    public async Task RemoveAsync(Guid id, bool force, CancellationToken cancellationToken)
    {
        var rt = RuntimePaths(id);
        var record = store.TryGet(id) ?? throw NotFound(id);
        var dependents = store.List()
            .Where(r => r.Id != id && r.Config?.Vm is not null)
            .Where(r => r.Config!.Vm!.Disks.Any(d => d.BackingFile is { } b && b.StartsWith(record.Directory + "/", StringComparison.Ordinal)))
            .Select(r => r.DisplayName).ToList();
        if (dependents.Count > 0)
            throw new VzInvalidStateException("VzVmHasLinkedClones", $"The VM '{record.DisplayName}' has linked clones whose disks read from its disk: {string.Join(", ", dependents)}.", record.DisplayName)
            { RecommendedAction = "Remove the linked clones first." };
        if (QemuProcess.Inspect(rt).Alive)
        {
            if (!force)
                throw new VzInvalidStateException("VzVmRunning", $"The VM '{record.DisplayName}' is running.", record.DisplayName)
                { RecommendedAction = $"Stop it first (Stop-VzVm -Name '{record.DisplayName}'), or use Remove-VzVm -Force to power it off." };
            await StopAsync(id, VmStopMode.Kill, TimeSpan.FromSeconds(10), null, cancellationToken);
        }
        store.Remove(id, cancellationToken);
        QemuProcess.CleanRunDirectory(rt);
        CgroupPlacement.Delete(id);
    }

    public VmInfo Rename(Guid id, string newName, CancellationToken cancellationToken)
    {
        store.Rename(id, newName, cancellationToken);
        return Describe(store.TryGet(id)!);
    }

    /// <summary>
    /// A clone with a new UUID and MAC. Full: each disk copied. Linked: the source's disk becomes a read-only base,
    /// and both the source and the clone get a qcow2 overlay on it, so neither can change what the other reads.
    /// </summary>
    public async Task<VmInfo> CopyAsync(Guid id, string newName, bool linked, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var source = store.TryGet(id) ?? throw NotFound(id);
        var srcName = source.DisplayName;
        using var srcLock = store.AcquireVeLock(id, cancellationToken);
        if (QemuProcess.Inspect(RuntimePaths(id)).Alive)
            throw new VzInvalidStateException("VzVmRunning", $"The VM '{srcName}' is running; copy it while it is stopped.", srcName)
            { RecommendedAction = $"Stop-VzVm -Name '{srcName}', then copy." };
        var srcConfig = VeConfigFile.Read(paths.VeConfigPath(id));
        // A linked clone turns the source's disks into a read-only base under new overlays: its internal snapshots
        // would stay in the base, out of reach of Restore-VzSnapshot.
        if (linked && srcConfig.Snapshots is { Count: > 0 } taken)
            throw new VzInvalidStateException("VzVmHasSnapshots", $"The VM '{srcName}' has {taken.Count} snapshot(s); a linked clone would cut them off from it.", srcName)
            { RecommendedAction = "Make a full copy (Copy-VzVm without -Linked), or remove the snapshots first (Get-VzSnapshot | Remove-VzSnapshot)." };
        var clone = VeConfigFile.Clone(srcConfig);
        clone.Id = Guid.NewGuid();
        clone.Name = newName;
        clone.CreatedAt = default;
        clone.OnBoot = false;
        clone.Vm!.MacAddress = MacAddresses.New();
        Network.Adapters.NetworkAdapterService.PrepareForCopy(clone);
        clone.Vm.Pending = null;
        // A copy is flattened (qemu-img convert drops internal snapshots): the clone starts with no snapshot tree.
        clone.Snapshots = null;
        clone.CurrentSnapshotId = null;
        var record = store.BeginCreate(clone, cancellationToken);
        var newSourceDisks = new List<VmDisk>();
        try
        {
            // One bar for the whole copy: each disk is an equal share, filled by qemu-img's own percentage.
            var activity = $"Copying VM '{srcName}' to '{newName}'";
            var count = Math.Max(1, srcConfig.Vm!.Disks.Count);
            var i = 0;
            foreach (var disk in srcConfig.Vm!.Disks)
            {
                var done = i++;
                void Report(double pct) => progress?.Report(new VzProgress(activity, $"Disk {disk.Id} ({done + 1} of {count}): {pct:0}%", (int)((done * 100 + pct) / count)));
                Report(0);
                var srcPath = ResolvePath(id, disk.Path);
                var target = clone.Vm.Disks.First(d => d.Id == disk.Id);
                var fileName = $"{disk.Id}.qcow2";
                if (linked)
                {
                    // The base must never change again: the source VM writes to a new overlay of its own.
                    var srcOverlay = $"{disk.Id}-{Guid.NewGuid().ToString("N")[..8]}.qcow2";
                    await images.CreateOverlayAsync(Path.Combine(record.Directory, fileName), srcPath, disk.Format, cancellationToken);
                    await images.CreateOverlayAsync(Path.Combine(source.Directory, srcOverlay), srcPath, disk.Format, cancellationToken);
                    File.SetUnixFileMode(srcPath, UnixFileMode.UserRead);
                    newSourceDisks.Add(new VmDisk { Id = disk.Id, Path = srcOverlay, Format = "qcow2", BackingFile = srcPath });
                    target.BackingFile = srcPath;
                }
                else
                {
                    await images.ConvertAsync(srcPath, Path.Combine(record.Directory, fileName), Report, cancellationToken, disk.Format);
                    target.BackingFile = null;
                }
                target.Path = fileName;
                target.Format = "qcow2";
                Report(100);
            }
            var efi = RuntimePaths(id).EfiVars;
            if (File.Exists(efi)) File.Copy(efi, RuntimePaths(clone.Id).EfiVars);
            using (var cloneLock = store.AcquireVeLock(clone.Id, cancellationToken))
                store.UpdateLocked(cloneLock, clone.Id, c => c.Vm = clone.Vm);
            if (linked)
                store.UpdateLocked(srcLock, id, c =>
                {
                    foreach (var d in newSourceDisks)
                    {
                        var old = c.Vm!.Disks.First(x => x.Id == d.Id);
                        old.Path = d.Path; old.Format = d.Format; old.BackingFile = d.BackingFile;
                    }
                });
            store.CompleteCreation(clone.Id);
        }
        catch
        {
            try { store.Remove(clone.Id, CancellationToken.None); } catch (Exception ex) { logger.LogWarning("Could not remove the half-made clone: {Error}", ex.Message); }
            foreach (var d in newSourceDisks) File.Delete(Path.Combine(source.Directory, d.Path));
            throw;
        }
        progress?.Report(new VzProgress($"Copying VM '{srcName}' to '{newName}'", "Done", 100) { Completed = true });
        return Describe(store.TryGet(clone.Id)!);
    }

    /// <summary>The VM as a libvirt domain XML (Export-VzVm -Format LibvirtXml).</summary>
    public async Task<string> ExportAsync(Guid id, VmExportFormat format, CancellationToken cancellationToken)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var config = record.Config ?? throw new VzConfigCorruptException(record.Directory, null, "the VM's config cannot be read.");
        var caps = await host.GetAsync(false, cancellationToken);
        return format switch
        {
            VmExportFormat.LibvirtXml => LibvirtDomainXml.Build(config, RuntimePaths(id), caps.Accelerator, p => ResolvePath(id, p),
                n => Network.Adapters.NetworkAdapterRules.FindNetwork(new Network.VirtualNetworkStore(paths), n).Bridge),
            _ => throw new VzInvalidArgumentException("VzInvalidExportFormat", $"Unknown export format {format}.", record.DisplayName, "Format"),
        };
    }
}
