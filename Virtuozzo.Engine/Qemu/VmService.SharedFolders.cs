using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.SharedFolders;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>
/// Shared folders on a running VM: virtio-fs shares hot-added and removed, and what shares forbid (migration, saving
/// its state, memory hotplug: see <see cref="VmSharePlan.VirtioFsBlockReason"/>).
/// </summary>
public sealed partial class VmService
{
    /// <summary>
    /// Why the VM cannot be migrated because of its shared folders, or null when they do not stand in the way. A running
    /// VM is judged by the devices it has (a share added since applies at its next start). A stopped VM has none: it
    /// moves with its share settings, and a start on a host that lacks the folder fails with VzSharedFolderPathNotFound.
    /// </summary>
    public string? SharedFolderMigrationBlocker(Guid id)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var rt = RuntimePaths(id);
        if (QemuProcess.Inspect(rt).Alive)
        {
            var attached = VmShareState.Read(rt);
            if (attached.FirstOrDefault(s => s.Transport == SharedFolderTransport.VirtioFs) is { } vfs)
                return $"The VM '{record.DisplayName}' has the virtio-fs shared folder '{vfs.Name}' attached: {VmSharePlan.VirtioFsBlockReason}. Stop the VM (or remove the share and restart it) first.";
            if (attached.FirstOrDefault() is { } ninep)
                return $"The VM '{record.DisplayName}' has the 9p shared folder '{ninep.Name}' attached: QEMU refuses to migrate a VM while a 9p export is mounted in its guest, and the folder is on this host. Stop the VM (or remove the share and restart it) first.";
        }
        return null;
    }

    /// <summary>
    /// Attaches a share just stored in the config to the running VM: its virtiofsd started, then chardev-add and
    /// device_add. Null when it is attached (or the VM is not running: its start attaches it), else why it waits for
    /// the VM's next start. A hot-added share is recorded with the others (VmShareState), so the daemon watch, the
    /// listing and the migration and hotplug gates see it as one attached at start.
    /// </summary>
    public async Task<string?> AttachShareLiveAsync(Guid id, VeSharedFolder share, CancellationToken ct)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var name = record.DisplayName;
        var rt = RuntimePaths(id);
        using var veLock = store.AcquireVeLock(id, ct);
        if (!QemuProcess.Inspect(rt).Alive) return null;
        // A device of that name is still there: an earlier share of the name, removed but not unpluggable (see DetachShareLiveAsync).
        if (VmShareState.Read(rt).Any(e => e.Name == share.Name))
            return $"the device of an earlier shared folder named '{share.Name}' is still attached until the VM stops";
        if (VmSharePlan.Resolve(share, File.Exists(VmSharePlan.VirtiofsdPath), name) == SharedFolderTransport.NineP)
            return "QEMU cannot add a 9p export to a running VM (QMP has no command to add its fsdev)";
        await using var monitor = await OpenMonitorAsync(rt, name, ct);
        if (!await monitor.IsRamSharedAsync(ct))
            return "virtio-fs needs the VM's RAM shared with its daemon from boot (a memfd backend, which QEMU cannot switch to while the VM runs), " +
                "and this VM started without a virtio-fs share, so its RAM is private";
        var device = new VmShareDevice(share.Name, SharedFolderTransport.VirtioFs, share.Path, share.ReadOnly, rt.VirtioFsSocket(share.Name));
        rt.ValidateShareSockets([device]);
        var daemon = await VirtioFsDaemon.StartAsync(runner, rt, device, name, ct);
        try { await ShareHotplug.AddVirtioFsAsync(monitor, device, record.Config?.Vm?.Machine == "pc" ? "pc" : "q35", ct); }
        catch
        {
            VirtioFsDaemon.Stop(rt, share.Name);
            throw;
        }
        VmShareState.Set(rt, new VmShareState.Entry(share.Name, SharedFolderTransport.VirtioFs), attached: true);
        logger.LogInformation("Hot-added the shared folder '{Share}' to '{Name}' (virtiofsd pid {Pid}).", share.Name, name, daemon);
        return null;
    }

    /// <summary>
    /// Detaches a share from the running VM: device_del (the guest lets go), chardev-remove, its daemon ended. Null
    /// when it is detached (or was not attached), else why it stays attached until the VM stops.
    /// </summary>
    public async Task<string?> DetachShareLiveAsync(Guid id, string shareName, CancellationToken ct)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var name = record.DisplayName;
        var rt = RuntimePaths(id);
        using var veLock = store.AcquireVeLock(id, ct);
        if (!QemuProcess.Inspect(rt).Alive || VmShareState.Read(rt).FirstOrDefault(e => e.Name == shareName) is not { } entry) return null;
        if (entry.Transport == SharedFolderTransport.NineP)
            return "QEMU cannot remove a 9p export's fsdev from a running VM";
        await using var monitor = await OpenMonitorAsync(rt, name, ct);
        try { await ShareHotplug.RemoveVirtioFsAsync(monitor, shareName, ct); }
        catch (Monitor.QmpException ex) when (ex.Description.Contains("does not support hotplugging", StringComparison.OrdinalIgnoreCase))
        {
            return "it was attached when the VM started, on the q35 PCIe root bus, which cannot unplug a device (a hot-added share sits on a hotplug port)";
        }
        VmShareState.Set(rt, entry, attached: false);
        VirtioFsDaemon.Stop(rt, shareName);
        logger.LogInformation("Hot-removed the shared folder '{Share}' from '{Name}'.", shareName, name);
        return null;
    }

    /// <summary>Refuses <paramref name="what"/> on a running VM with a virtio-fs share attached.</summary>
    private static void RefuseWithVirtioFs(VmRuntimePaths rt, string name, string errorId, string what)
    {
        if (VmShareState.Read(rt).FirstOrDefault(s => s.Transport == SharedFolderTransport.VirtioFs) is { } share)
            throw new VzInvalidStateException(errorId, $"Cannot {what} the VM '{name}' while its virtio-fs shared folder '{share.Name}' is attached: {VmSharePlan.VirtioFsBlockReason}.", name)
            { RecommendedAction = $"Stop the VM first, or remove the share (Remove-VzSharedFolder -VeName '{name}' -Name '{share.Name}') and restart the VM." };
    }
}
