using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Disks.Safety;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Changing the medium of a DVD drive: live on a running VM (QMP), and in ve.yaml for the next start.</summary>
public sealed partial class VmService
{
    /// <summary>
    /// Inserts an ISO image or a host optical drive (<paramref name="path"/>) into a DVD drive, or ejects its
    /// medium (<paramref name="eject"/>). The path passes <see cref="OpticalMediumGate"/> first; the drive is
    /// <paramref name="driveId"/> or the VM's first DVD drive. On a running VM QEMU changes the medium at once
    /// (blockdev-change-medium, eject) and the guest sees a media change; the config is written after QEMU took it.
    /// </summary>
    public async Task<VmInfo> SetDvdMediumAsync(Guid id, string? driveId, string? path, bool eject, CancellationToken cancellationToken)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var name = record.DisplayName;
        if (path is null == !eject)
            throw new VzInvalidArgumentException("VzDvdMediumMissing", eject ? "Give -Path or -Eject, not both." : "Give -Path (an ISO image or /dev/sr*) or -Eject.", name, "Path");
        var medium = path is null ? null : OpticalMediumGate.Check(path);
        using var veLock = store.AcquireVeLock(id, cancellationToken);
        var current = VeConfigFile.Read(paths.VeConfigPath(id));
        var drives = current.Vm!.DvdDrives;
        var drive = (driveId is null ? drives.FirstOrDefault() : drives.FirstOrDefault(d => string.Equals(d.Id, driveId, StringComparison.OrdinalIgnoreCase)))
            ?? throw new VzNotFoundException("VzVmDvdDriveNotFound", driveId is null ? $"The VM '{name}' has no DVD drive." : $"The VM '{name}' has no DVD drive '{driveId}'.", name)
            { RecommendedAction = drives.Count == 0 ? "Stop the VM and add one with Add-VzVmDvdDrive (IDE drives cannot be hot-plugged)." : $"Its drives: {string.Join(", ", drives.Select(d => d.Id))}." };
        var rt = RuntimePaths(id);
        if (QemuProcess.Inspect(rt).Alive)
        {
            await using var monitor = await OpenMonitorAsync(rt, name, cancellationToken);
            if (medium is not null) await monitor.BlockdevChangeMediumAsync(drive.Id, medium.Path, cancellationToken);
            else await monitor.EjectAsync(drive.Id, cancellationToken);
        }
        var driveName = drive.Id;
        store.UpdateLocked(veLock, id, c => c.Vm!.DvdDrives.First(d => d.Id == driveName).IsoPath = medium?.Path);
        logger.LogInformation("DVD drive {Drive} of '{Name}': {Medium}.", driveName, name, medium is null ? "ejected" : medium.Path);
        return Describe(store.TryGet(id)!);
    }
}
