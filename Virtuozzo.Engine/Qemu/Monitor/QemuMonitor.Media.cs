using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>Removable media of a running VM's CD/DVD drives: blockdev-change-medium, eject.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>
    /// Puts <paramref name="filename"/> into the drive whose device id is <paramref name="deviceId"/>, read-only,
    /// opening and closing the tray as a user would. A host drive (/dev/sr0) is recognised by QEMU's protocol probe
    /// and opened with its host_cdrom driver (passthrough).
    /// </summary>
    public Task BlockdevChangeMediumAsync(string deviceId, string filename, CancellationToken cancellationToken) =>
        ExecuteAsync("blockdev-change-medium", new JsonObject
        {
            ["id"] = deviceId, ["filename"] = filename, ["format"] = "raw", ["read-only-mode"] = "read-only",
        }, cancellationToken);

    /// <summary>Ejects the medium of a drive; forced, because a guest that mounted it locks the tray.</summary>
    public Task EjectAsync(string deviceId, CancellationToken cancellationToken) =>
        ExecuteAsync("eject", new JsonObject { ["id"] = deviceId, ["force"] = true }, cancellationToken);
}
