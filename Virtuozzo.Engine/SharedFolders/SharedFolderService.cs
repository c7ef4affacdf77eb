using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.SharedFolders;

/// <summary>
/// Add-, Get- and Remove-VzSharedFolder: host folders shared with containers (bind mounts) and VMs (virtio-fs or 9p),
/// kept in the VE's config (written atomically under its lock) and attached when the VE starts. A share added or
/// removed while the VE runs takes effect at its next start: a container's mount namespace and a VM's memory backend
/// are set when it starts (virtio-fs needs the VM's RAM shared from boot).
/// </summary>
public sealed class SharedFolderService(VzPaths paths, VeStore store, Func<VmService> vms, Func<ContainerService> containers, ILogger<SharedFolderService> logger)
{
    /// <summary>Adds a share to a VE after checking every argument; a refused share changes nothing.</summary>
    public SharedFolderInfo Add(Guid veId, string name, string path, string? guestPath, bool readOnly, SharedFolderTransport transport, CancellationToken ct)
    {
        var record = store.TryGet(veId) ?? throw NotFound(veId);
        var veName = record.DisplayName;
        SharedFolderRules.ValidateName(name, veName);
        var hostPath = SharedFolderRules.ValidateHostPath(path, paths.DataRoot, veName);
        var isVm = record.Config?.Type == VeType.VirtualMachine;
        string? mountPoint = null;
        if (isVm)
        {
            if (guestPath is not null)
                throw new VzInvalidArgumentException("VzSharedFolderGuestPathVm",
                    $"A VM's guest mounts a shared folder itself, by its tag ('{name}'); -GuestPath applies to containers only.", veName, "GuestPath")
                { RecommendedAction = $"Leave -GuestPath out, and in the guest run: mount -t virtiofs {name} /mnt (9p: mount -t 9p -o trans=virtio {name} /mnt)." };
            if (transport == SharedFolderTransport.Bind)
                throw new VzInvalidArgumentException("VzSharedFolderTransportInvalid", "A VM gets a shared folder over VirtioFs or NineP; Bind is for containers.", veName, "Transport")
                { RecommendedAction = "Use -Transport Auto, VirtioFs or NineP." };
            if (transport == SharedFolderTransport.VirtioFs && readOnly)
                throw new VzInvalidArgumentException("VzSharedFolderReadOnlyVirtioFs",
                    "QEMU 7.2's virtiofsd cannot serve a folder read-only; a read-only share goes over 9p, which QEMU enforces.", veName, "ReadOnly")
                { RecommendedAction = "Use -Transport Auto or NineP with -ReadOnly." };
            RefuseWhileSaved(veId, veName, "add");
        }
        else
        {
            if (transport is not (SharedFolderTransport.Auto or SharedFolderTransport.Bind))
                throw new VzInvalidArgumentException("VzSharedFolderTransportInvalid", $"A container gets a shared folder as a bind mount; {transport} is for VMs.", veName, "Transport")
                { RecommendedAction = "Leave -Transport out for a container." };
            mountPoint = SharedFolderRules.ValidateGuestPath(guestPath ?? SharedFolderRules.DefaultGuestPath(name), veName);
        }
        var written = store.Update(veId, c =>
        {
            var list = c.SharedFolders ?? [];
            if (list.Any(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)))
                throw new VzAlreadyExistsException("VzSharedFolderExists", $"'{veName}' already has a shared folder named '{name}'.", veName)
                { RecommendedAction = $"Choose another name, or remove it first: Remove-VzSharedFolder -VeName '{veName}' -Name '{name}'." };
            if (mountPoint is not null && list.FirstOrDefault(s => s.GuestPath is { } g && (SharedFolderRules.Within(g, mountPoint) || SharedFolderRules.Within(mountPoint, g))) is { } clash)
                throw new VzAlreadyExistsException("VzSharedFolderGuestPathInUse",
                    $"The guest path '{mountPoint}' overlaps '{clash.GuestPath}' of the shared folder '{clash.Name}' of '{veName}'.", veName)
                { RecommendedAction = "Choose a -GuestPath that is neither above nor below another share's." };
            list.Add(new VeSharedFolder
            {
                Name = name,
                Path = hostPath,
                GuestPath = mountPoint,
                ReadOnly = readOnly,
                Transport = isVm && transport != SharedFolderTransport.Auto ? transport : null,
            });
            c.SharedFolders = list;
        }, ct);
        logger.LogInformation("Shared '{Path}' with '{Ve}' as '{Name}'.", hostPath, veName, name);
        var info = Describe(store.TryGet(veId)!).First(s => s.Name == name);
        if (IsRunning(record))
            logger.LogWarning("'{Ve}' is running: the shared folder '{Name}' is attached at its next start.", veName, name);
        return info;
    }

    /// <summary>The shares of one VE, with their live state.</summary>
    public IReadOnlyList<SharedFolderInfo> List(Guid veId) => Describe(store.TryGet(veId) ?? throw NotFound(veId));

    /// <summary>Removes a share from a VE's config; a running VE keeps it until it stops.</summary>
    public SharedFolderInfo Remove(Guid veId, string name, CancellationToken ct)
    {
        var record = store.TryGet(veId) ?? throw NotFound(veId);
        var info = Describe(record).FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new VzNotFoundException("VzSharedFolderNotFound", $"'{record.DisplayName}' has no shared folder named '{name}'.", record.DisplayName)
            { RecommendedAction = $"List its shares with Get-VzSharedFolder -VeName '{record.DisplayName}'." };
        if (record.Config?.Type == VeType.VirtualMachine) RefuseWhileSaved(veId, record.DisplayName, "remove");
        store.Update(veId, c =>
        {
            c.SharedFolders?.RemoveAll(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
            if (c.SharedFolders is { Count: 0 }) c.SharedFolders = null;
        }, ct);
        if (info.Active)
            logger.LogWarning("'{Ve}' is running: the shared folder '{Name}' stays attached until it stops.", record.DisplayName, name);
        logger.LogInformation("Removed the shared folder '{Name}' of '{Ve}'.", name, record.DisplayName);
        return info;
    }

    /// <summary>A VM saved by Suspend-VzVm -SaveState resumes with exactly the devices it was saved with: its shares stay as they are.</summary>
    private void RefuseWhileSaved(Guid veId, string veName, string verb)
    {
        if (File.Exists(vms().RuntimePaths(veId).SavedState))
            throw new VzInvalidStateException("VzSharedFolderVmSaved",
                $"Cannot {verb} a shared folder of the VM '{veName}': it has a saved state, which resumes with exactly the devices it was saved with.", veName)
            { RecommendedAction = $"Resume it and stop it (Start-VzVm, then Stop-VzVm), or discard the state with Stop-VzVm -Name '{veName}', then {verb} the share." };
    }

    private IReadOnlyList<SharedFolderInfo> Describe(VeRecord record)
    {
        var config = record.Config;
        if (config?.SharedFolders is not { Count: > 0 } shares) return [];
        if (config.Type == VeType.VirtualMachine)
        {
            var rt = vms().RuntimePaths(record.Id);
            var attached = QemuProcess.Inspect(rt).Alive ? VmShareState.Read(rt) : [];
            var virtiofsd = File.Exists(VmSharePlan.VirtiofsdPath);
            return [.. shares.Select(s =>
            {
                var now = attached.FirstOrDefault(a => a.Name == s.Name);
                SharedFolderTransport planned;
                try { planned = VmSharePlan.Resolve(s, virtiofsd, config.Name); }
                catch (VzCapabilityMissingException) { planned = SharedFolderTransport.VirtioFs; } // listed as asked; the start says what is missing
                return Info(record, s) with
                {
                    Transport = now?.Transport ?? planned,
                    Active = now is not null,
                    DaemonProcessId = now?.Transport == SharedFolderTransport.VirtioFs ? VirtioFsDaemon.AlivePid(rt, s.Name) : null,
                };
            })];
        }
        var mounts = ContainerMountPoints(record);
        return [.. shares.Select(s => Info(record, s) with { Transport = SharedFolderTransport.Bind, Active = s.GuestPath is { } g && mounts.Contains(g) })];
    }

    private static SharedFolderInfo Info(VeRecord record, VeSharedFolder s) => new()
    {
        VeName = record.DisplayName,
        VeId = record.Id,
        VeType = record.Config!.Type,
        Name = s.Name,
        Path = s.Path,
        GuestPath = s.GuestPath,
        ReadOnly = s.ReadOnly,
        RequestedTransport = s.Transport ?? (record.Config.Type == VeType.Container ? SharedFolderTransport.Bind : SharedFolderTransport.Auto),
    };

    /// <summary>The mount points inside a running container, from its init's mountinfo; empty when it is not running.</summary>
    private HashSet<string> ContainerMountPoints(VeRecord record)
    {
        var info = containers().Describe(record);
        if (info.StateValue is not (ContainerState.Running or ContainerState.Suspended) || info.InitPid <= 0) return [];
        try { return [.. MountInfo.Read($"/proc/{info.InitPid}/mountinfo").Select(m => m.MountPoint)]; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return []; }
    }

    private bool IsRunning(VeRecord record) => record.Config?.Type == VeType.VirtualMachine
        ? QemuProcess.Inspect(vms().RuntimePaths(record.Id)).Alive
        : containers().Describe(record).StateValue is ContainerState.Running or ContainerState.Suspended;

    private static VzNotFoundException NotFound(Guid id) =>
        new("VzVeNotFound", $"No VE with id {id} exists on this host.", id) { RecommendedAction = "List VEs with Get-VzContainer or Get-VzVm." };
}
