using System.Text.Json.Nodes;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Monitor;

namespace Virtuozzo.Engine.Qemu.Hotplug;

/// <summary>
/// virtio-fs hotplug: chardev-add (to the share's running virtiofsd) + device_add vhost-user-fs-pci to attach,
/// device_del + DEVICE_DELETED + chardev-remove to detach; the same ids and properties the command line gives a share
/// at start (<see cref="QemuCommandLine"/>), on a free PCIe root port on q35 as for disks.
/// </summary>
public static class ShareHotplug
{
    public static async Task AddVirtioFsAsync(QemuMonitor monitor, VmShareDevice share, string machine, CancellationToken ct)
    {
        var chardev = "vfs-" + share.Tag;
        await monitor.ChardevAddUnixSocketAsync(chardev, share.SocketPath, ct);
        try
        {
            JsonObject Device(string? port)
            {
                var d = new JsonObject { ["driver"] = "vhost-user-fs-pci", ["id"] = "fs-" + share.Tag, ["chardev"] = chardev, ["tag"] = share.Tag, ["queue-size"] = 1024 };
                if (port is not null) d["bus"] = port;
                return d;
            }
            if (machine == "pc")
            {
                await monitor.DeviceAddAsync(Device(null), ct);
                return;
            }
            QmpException? last = null;
            foreach (var port in await DiskHotplug.FreePortsAsync(monitor, ct))
            {
                try { await monitor.DeviceAddAsync(Device(port), ct); return; }
                catch (QmpException ex) { last = ex; }
            }
            throw last ?? QemuMonitor.DeviceAddRefused(
                $"no free PCIe hotplug port (a q35 VM has {QemuCommandLine.HotplugPorts}); the share is attached at the VM's next start instead", share.Tag);
        }
        catch
        {
            try { await monitor.ChardevRemoveAsync(chardev, CancellationToken.None); } catch (QmpException) { }
            throw;
        }
    }

    /// <summary>Unplugs the share's device and waits for the guest to let go, then drops its chardev (the daemon then exits by itself).</summary>
    public static async Task RemoveVirtioFsAsync(QemuMonitor monitor, string tag, CancellationToken ct)
    {
        var present = true;
        try { await monitor.DeviceDelAsync("fs-" + tag, ct); }
        catch (QmpException ex) when (ex.QmpClass == "DeviceNotFound") { present = false; }
        if (present) await monitor.WaitForDeviceDeletedAsync("fs-" + tag, DiskHotplug.UnplugTimeout, ct);
        try { await monitor.ChardevRemoveAsync("vfs-" + tag, ct); }
        catch (QmpException ex) when (ex.Description.Contains("not found", StringComparison.OrdinalIgnoreCase)) { }
    }
}
