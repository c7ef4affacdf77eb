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
/// kept in the VE's config (written atomically under its lock) and attached when the VE starts. A share added to or
/// removed from a running container is mounted or unmounted in it at once (<see cref="Containers.Runtime.LiveShareMount"/>);
/// a running VM gets a virtio-fs share hot-added or removed when its RAM is already shared (it started with one),
/// and otherwise at its next start, with a warning that says why (virtio-fs needs the RAM shared from boot; 9p
/// cannot be hot-added).
/// </summary>
public sealed class SharedFolderService(VzPaths paths, VeStore store, Func<VmService> vms, Func<ContainerService> containers, ILogger<SharedFolderService> logger)
{
    /// <summary>Adds a share to a VE after checking every argument; a refused share changes nothing.</summary>
    public async Task<SharedFolderInfo> AddAsync(Guid veId, string name, string path, string? guestPath, bool readOnly, SharedFolderTransport transport, CancellationToken ct)
    {
        var record = store.TryGet(veId) ?? throw NotFound(veId);
        var veName = record.DisplayName;
        SharedFolderRules.ValidateName(name, veName);
        var hostPath = SharedFolderRules.ValidateHostPath(path, paths.DataRoot, veName);
        var isVm = record.Config?.Type == VeType.VirtualMachine;
        var share = SharedFolderRules.Check(name, hostPath, guestPath, readOnly, transport, isVm, veName);
        if (isVm) RefuseWhileSaved(veId, veName, "add");
        var written = store.Update(veId, c =>
        {
            var list = c.SharedFolders ?? [];
            SharedFolderRules.CheckAgainst(list, share, veName);
            list.Add(share);
            c.SharedFolders = list;
        }, ct);
        logger.LogInformation("Shared '{Path}' with '{Ve}' as '{Name}'.", hostPath, veName, name);
        string? deferred = null;
        try
        {
            if (isVm) deferred = await vms().AttachShareLiveAsync(veId, share, ct).ConfigureAwait(false);
            else await containers().AttachShareLiveAsync(veId, share, ct).ConfigureAwait(false);
        }
        catch
        {
            // Not attached: not stored either, so the VE is as it was.
            store.Update(veId, c => { c.SharedFolders?.RemoveAll(s => s.Name == share.Name); if (c.SharedFolders is { Count: 0 }) c.SharedFolders = null; }, CancellationToken.None);
            throw;
        }
        if (deferred is not null)
            logger.LogWarning("'{Ve}' is running: the shared folder '{Name}' is attached at its next start: {Reason}.", veName, name, deferred);
        return Describe(store.TryGet(veId)!).First(s => s.Name == name);
    }

    /// <summary>The shares of one VE, with their live state.</summary>
    public IReadOnlyList<SharedFolderInfo> List(Guid veId) => Describe(store.TryGet(veId) ?? throw NotFound(veId));

    /// <summary>Removes a share from a VE's config; a running VE keeps it until it stops.</summary>
    public async Task<SharedFolderInfo> RemoveAsync(Guid veId, string name, CancellationToken ct)
    {
        var record = store.TryGet(veId) ?? throw NotFound(veId);
        var info = Describe(record).FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new VzNotFoundException("VzSharedFolderNotFound", $"'{record.DisplayName}' has no shared folder named '{name}'.", record.DisplayName)
            { RecommendedAction = $"List its shares with Get-VzSharedFolder -VeName '{record.DisplayName}'." };
        var isVm = record.Config?.Type == VeType.VirtualMachine;
        if (isVm) RefuseWhileSaved(veId, record.DisplayName, "remove");
        // Detached from the running VE first: one that cannot let go keeps the share stored, as it keeps it attached.
        var stored = record.Config!.SharedFolders!.First(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
        string? remains = null;
        if (isVm) remains = await vms().DetachShareLiveAsync(veId, stored.Name, ct).ConfigureAwait(false);
        else await containers().DetachShareLiveAsync(veId, stored, ct).ConfigureAwait(false);
        store.Update(veId, c =>
        {
            c.SharedFolders?.RemoveAll(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
            if (c.SharedFolders is { Count: 0 }) c.SharedFolders = null;
        }, ct);
        if (remains is not null)
            logger.LogWarning("'{Ve}' is running: the shared folder '{Name}' stays attached until it stops: {Reason}.", record.DisplayName, name, remains);
        logger.LogInformation("Removed the shared folder '{Name}' of '{Ve}'.", name, record.DisplayName);
        return info;
    }

    /// <summary>
    /// Brings a VE's shares to <paramref name="desired"/> (Import-VzConfig): a share not listed, or listed with another
    /// folder, guest path, access or transport, is removed; a listed share it lacks is added. Shares already as listed
    /// are not touched, so a running VE keeps them attached.
    /// </summary>
    public async Task ReconcileAsync(Guid veId, IReadOnlyList<VeSharedFolder> desired, CancellationToken ct)
    {
        var current = (store.TryGet(veId) ?? throw NotFound(veId)).Config?.SharedFolders ?? [];
        static bool Same(VeSharedFolder a, VeSharedFolder b) =>
            string.Equals(a.Name, b.Name, StringComparison.OrdinalIgnoreCase) && a.Path == b.Path && a.GuestPath == b.GuestPath &&
            a.ReadOnly == b.ReadOnly && a.Transport == b.Transport;
        foreach (var share in current.Where(c => !desired.Any(d => Same(c, d))).ToList())
            await RemoveAsync(veId, share.Name, ct).ConfigureAwait(false);
        foreach (var share in desired.Where(d => !current.Any(c => Same(c, d))))
            await AddAsync(veId, share.Name, share.Path, share.GuestPath, share.ReadOnly, share.Transport ?? SharedFolderTransport.Auto, ct).ConfigureAwait(false);
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

    private static VzNotFoundException NotFound(Guid id) =>
        new("VzVeNotFound", $"No VE with id {id} exists on this host.", id) { RecommendedAction = "List VEs with Get-VzContainer or Get-VzVm." };
}
