using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Concurrency;
using Virtuozzo.Engine.Containers.Runtime;
using Virtuozzo.Engine.Containers.Templates;
using Virtuozzo.Engine.Diagnostics;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Containers;

public sealed partial class ContainerService
{
    /// <summary>How long a stop waits for the init to go after SIGKILL (it cannot ignore it; only a stuck kernel call delays it).</summary>
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(10);

    /// <summary>Creates a container from a template. Everything is checked first; a failure leaves nothing behind.</summary>
    public async Task<ContainerInfo> CreateAsync(string name, string template, ContainerChanges settings, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        VeNames.Validate(name);
        TemplateStore.Validate(template);
        var host = HostLimits.Read();
        var cfg = new VeConfig
        {
            Name = name,
            Type = VeType.Container,
            Memory = new MemorySettings { MemorySize = ContainerConfigurator.DefaultMemorySize },
            Container = new ContainerSettings { Template = template, Network = new ContainerNetworkSettings { MacAddress = MacAddresses.New() } },
        };
        ContainerConfigurator.Apply(cfg, settings, host);
        if (cfg.Container!.Layout == ContainerLayout.Image) cfg.Container.DiskSize ??= ImageLayout.DefaultSize;
        else if (cfg.Container.DiskSize is not null)
            throw new VzInvalidArgumentException("VzDiskSizeNeedsImage", "A disk size needs the Image layout (the Directory layout has no size limit).", name, "DiskSize")
            { RecommendedAction = "Add -Layout Image, or leave -DiskSize out." };
        if (store.TryFind(name) is { } existing)
            throw new VzAlreadyExistsException("VzVeNameInUse", $"A VE named '{name}' already exists (id {existing.Id}).", name)
            { RecommendedAction = "Choose another name, or remove or rename the existing VE first." };
        var tpl = await Templates.GetOrBuildAsync(template, progress, ct);
        cfg.Container.StopSignal = tpl.StopSignal;
        cfg.Container.Init = tpl.Init;

        VeRecord record;
        using (IdRangeAllocator.Lock(paths, ct))
        {
            cfg.Container.UidBase = IdRangeAllocator.Next(store.List());
            record = store.BeginCreate(cfg, ct);
        }
        try
        {
            progress?.Report(new VzProgress($"Creating container {name}", $"copying template {template}", 10));
            if (cfg.Container.Layout == ContainerLayout.Image)
            {
                var image = ImageLayout.ImagePath(record.Directory);
                await Images.CreateAsync(image, cfg.Container.DiskSize!.Value, name, ct);
                await Images.MountAsync(image, RootPath(record.Id), name, ct);
                try { RootTreeCopier.Copy(tpl.RootPath, RootPath(record.Id), 0, cfg.Container.UidBase, ct: ct); }
                finally { await Images.UnmountAsync(RootPath(record.Id), name, CancellationToken.None); }
            }
            else RootTreeCopier.Copy(tpl.RootPath, RootPath(record.Id), 0, cfg.Container.UidBase, ct: ct);
            PrepareVeDirectory(record.Id);
            store.CompleteCreation(record.Id);
            progress?.Report(new VzProgress($"Creating container {name}", "done", 100, true));
            logger.LogInformation("Created container {Name} ({Id}) from {Template}.", name, record.Id, template);
            if (settings.SwapSize is not null) WarnUnapplied(store.TryGet(record.Id)?.Config);
        }
        catch
        {
            try { store.Remove(record.Id, CancellationToken.None); }
            catch (Exception ex) { logger.LogWarning("Could not remove the half-created container {Id}: {Message}", record.Id, ex.Message); }
            throw;
        }
        return Describe(record.Id);
    }

    /// <summary>
    /// The VE folder is 0700 by default; container root (an unprivileged host uid) must be able to pass through it
    /// to reach its root tree, so it gets search permission (not read) for others.
    /// </summary>
    private void PrepareVeDirectory(Guid id)
    {
        var dir = paths.VeDirectory(id);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        // Every folder above must let others pass too, or the runtime fails with a bare "Permission denied".
        for (var parent = Path.GetDirectoryName(dir); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
            if (!File.GetUnixFileMode(parent).HasFlag(UnixFileMode.OtherExecute))
                throw new VzInvalidStateException("VzDataRootNotTraversable",
                    $"The folder '{parent}' above the container's root is not searchable by other users, so the container's root user (an unprivileged host uid) cannot reach its files.", parent)
                { RecommendedAction = $"Run 'chmod o+x {parent}', or move the data root to a searchable folder with Set-VzHost -DataRoot (the default /vz is)." };
    }

    private Task CopyTreeAsync(string from, string to, CancellationToken ct) =>
        runner.RunAsync("cp", ["-a", "--reflink=auto", "--", from, to], new ProcessRunOptions { Timeout = TimeSpan.FromMinutes(30), Target = to }, ct);

    public async Task<ContainerInfo> StartAsync(Guid id, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        using (store.AcquireVeLock(id, ct))
        {
            var (record, cfg) = RequireReady(id);
            if (Live(id).Running) return Describe(id);
            var trace = new PhaseTrace();
            // Starts run concurrently over a pipeline: a container that sets memory aside is admitted and started
            // one at a time, so two cannot both be admitted against the same free memory. Others (0 %) skip the gate
            // and the admission check (which reads every VE's config): they take no guarantee from anyone.
            var setsAside = Memory.MemoryPlanner.Protection(cfg) > 0;
            using var admitted = setsAside ? await AdmissionGate.EnterAsync(ct) : null;
            if (setsAside) Admission?.Invoke(cfg);
            trace.Mark("admission");
            var init = Init(id);
            if (Directory.Exists(init.RunDirectory) || CgroupPlacement.Exists(id))
                await CleanupAsync(id, ct); // a container that died leaves runtime state and cgroups: clear them first
            trace.Mark("leftovers");
            progress?.Report(new VzProgress($"Starting container {cfg.Name}", "preparing", 10));
            var runtime = Runtimes.Get(Runtimes.SelectName());
            var host = HostLimits.Read();
            CgroupPlacement.CheckControllers(id, cfg, host.CpuCount); // a missing controller is named before anything starts
            var ctSettings = cfg.Container!;
            var memMerge = ctSettings.MemMerge == true;
            if (memMerge) await ProcessMerge.EnsureSupportedAsync(cfg.Name, ct); // named before anything starts
            trace.Mark("checks");
            var root = RootPath(id);
            var hostname = ctSettings.Hostname ?? cfg.Name;
            if (ctSettings.Layout == ContainerLayout.Image) await Images.MountAsync(ImageLayout.ImagePath(record.Directory), root, cfg.Name, ct);
            ContainerFiles.WriteIdentity(root, hostname, ctSettings);
            var bundle = record.Directory;
            PrepareVeDirectory(id);
            // Shares are checked again at start: a folder removed or swapped for a link since Add-VzSharedFolder is refused, not bound.
            var shares = SharedFolders.SharedFolderRules.RecheckAll(cfg, paths.DataRoot);
            var idMapped = shares > 0 && await IdMappedMounts.SupportedAsync(runner, runtime.Name, ct);
            trace.Mark("identity");
            OciBundleWriter.Write(bundle, OciBundleWriter.InputFor(cfg, root, CgroupPlacement.PathOf(id), host.CpuCount, idMapped));
            init.Prepare(runtime.Name);
            trace.Mark("bundle");
            try
            {
                if (ctSettings.Network.IpAddresses.Count == 0 && cfg.NetworkAdapters is not { Count: > 0 })
                {
                    // Nothing to plumb before init runs: one runtime call (run -d) instead of two (create + start).
                    progress?.Report(new VzProgress($"Starting container {cfg.Name}", $"{runtime.Name} run", 30));
                    await runtime.RunDetachedAsync(OciRuntimes.RuntimeId(id), bundle, init.PidFile, init.ConsoleLog, cfg.Name, ct, memMerge);
                    trace.Mark($"{runtime.Name} run");
                    init.Record(cfg.Name, runtime.Name);
                    CgroupPlacement.Apply(id, cfg, host.CpuCount);
                    trace.Mark("record+limits");
                }
                else
                {
                    // eth0 must exist before init's boot scripts run: create, plumb the network, then start.
                    progress?.Report(new VzProgress($"Starting container {cfg.Name}", $"{runtime.Name} create", 30));
                    await runtime.CreateAsync(OciRuntimes.RuntimeId(id), bundle, init.PidFile, init.ConsoleLog, cfg.Name, ct, memMerge);
                    var pid = init.Record(cfg.Name, runtime.Name);
                    CgroupPlacement.Apply(id, cfg, host.CpuCount);
                    progress?.Report(new VzProgress($"Starting container {cfg.Name}", "network", 60));
                    if (BeforeNetwork is { } before)
                        await before(id, ctSettings.Network.Mode == NetworkMode.Bridged ? ctSettings.Network.Bridge : null, ct);
                    await Network.AttachAsync(id, pid, ctSettings.Network, ct);
                    if (AttachAdapters is { } attach) await attach(cfg, pid, ct);
                    await runtime.StartAsync(OciRuntimes.RuntimeId(id), cfg.Name, ct);
                    trace.Mark($"network+{runtime.Name} start");
                }
            }
            catch
            {
                await CleanupAsync(id, CancellationToken.None);
                throw;
            }
            progress?.Report(new VzProgress($"Starting container {cfg.Name}", "running", 100, true));
            logger.LogInformation("Started container {Name} with {Runtime}.", cfg.Name, runtime.Name);
            WarnUnapplied(cfg);
            logger.LogTrace("Start of {Name}: {Phases} ms; {Total:0.0} ms in all.", cfg.Name, trace.Summary, trace.Elapsed.TotalMilliseconds);
        }
        return Describe(id);
    }

    /// <summary>
    /// Stops a container: the template's shutdown signal to init, then SIGKILL when <paramref name="timeout"/> runs
    /// out (or at once with <paramref name="kill"/>); then the runtime state, network and cgroups are removed.
    /// </summary>
    public async Task<ContainerInfo> StopAsync(Guid id, bool kill, TimeSpan timeout, CancellationToken ct)
    {
        using (store.AcquireVeLock(id, ct))
        {
            var (_, cfg) = RequireReady(id);
            await StopLockedAsync(id, cfg, kill, timeout, ct);
        }
        return Describe(id);
    }

    private async Task StopLockedAsync(Guid id, VeConfig cfg, bool kill, TimeSpan timeout, CancellationToken ct)
    {
        var (running, pid, runtimeName) = Live(id);
        if (running && runtimeName is not null)
        {
            var runtime = Runtimes.Get(runtimeName);
            if (CgroupPlacement.IsFrozen(id)) CgroupPlacement.SetFrozen(id, false, TimeSpan.FromSeconds(10)); // a frozen init cannot act on a signal
            var exited = false;
            if (!kill)
            {
                await runtime.KillAsync(OciRuntimes.RuntimeId(id), cfg.Container!.StopSignal, cfg.Name, ct);
                // The init shuts down by its own clock (busybox: about 2 s): no work for the host, so no throttle slot.
                exited = await WorkThrottle.IdleAsync(() => ContainerInit.WaitForExitAsync(pid, timeout, ct));
                if (!exited) logger.LogWarning("Container {Name} did not stop within {Seconds} s; killing it.", cfg.Name, timeout.TotalSeconds);
            }
            if (!exited)
            {
                await runtime.KillAsync(OciRuntimes.RuntimeId(id), "SIGKILL", cfg.Name, ct);
                if (!await ContainerInit.WaitForExitAsync(pid, KillWait, ct))
                    throw new VzTimeoutException("VzContainerStopTimedOut", $"The init of {cfg.Name} (pid {pid}) survived SIGKILL for {KillWait.TotalSeconds} s.", cfg.Name, KillWait);
            }
            logger.LogInformation("Stopped container {Name}.", cfg.Name);
        }
        await CleanupAsync(id, ct);
    }

    /// <summary>Removes everything a (stopped) container run leaves: runtime state, host veth, cgroups, run folder.</summary>
    private async Task CleanupAsync(Guid id, CancellationToken ct)
    {
        var init = Init(id);
        var runtimeName = init.RecordedRuntime;
        foreach (var name in runtimeName is null ? ["crun", "runc"] : new[] { runtimeName })
            if (ToolLocator.Find(name) is not null) await Runtimes.Get(name).DeleteAsync(OciRuntimes.RuntimeId(id), ct);
        await Network.DetachAsync(id, ct);
        if (DetachAdapters is { } detach) await detach(store.TryGet(id)?.Config, ct);
        await CgroupPlacement.DeleteAsync(id, ct);
        init.Remove();
        if (ImageLayout.IsMounted(RootPath(id))) await Images.UnmountAsync(RootPath(id), id, ct);
    }

    public async Task<ContainerInfo> RestartAsync(Guid id, TimeSpan timeout, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        await StopAsync(id, kill: false, timeout, ct);
        return await StartAsync(id, progress, ct);
    }

    /// <summary>Freezes every process of a running container (cgroup freezer).</summary>
    public Task<ContainerInfo> SuspendAsync(Guid id, CancellationToken ct) => SetFrozenAsync(id, true, ct);

    public Task<ContainerInfo> ResumeAsync(Guid id, CancellationToken ct) => SetFrozenAsync(id, false, ct);

    private Task<ContainerInfo> SetFrozenAsync(Guid id, bool frozen, CancellationToken ct)
    {
        using (store.AcquireVeLock(id, ct))
        {
            var (_, cfg) = RequireReady(id);
            if (!Live(id).Running)
                throw new VzInvalidStateException("VzContainerNotRunning", $"The container {cfg.Name} is not running.", cfg.Name)
                { RecommendedAction = "Start it with Start-VzContainer." };
            CgroupPlacement.SetFrozen(id, frozen, TimeSpan.FromSeconds(30));
            logger.LogInformation("{Action} container {Name}.", frozen ? "Suspended" : "Resumed", cfg.Name);
        }
        return Task.FromResult(Describe(id));
    }

    /// <summary>Deletes a container and its files. A running one is refused unless <paramref name="force"/> (which kills it).</summary>
    public async Task RemoveAsync(Guid id, bool force, CancellationToken ct)
    {
        var record = Require(id);
        using (store.AcquireVeLock(id, ct))
        {
            if (Live(id).Running)
            {
                if (!force)
                    throw new VzInvalidStateException("VzContainerRunning", $"The container {record.DisplayName} is running.", record.DisplayName)
                    { RecommendedAction = "Stop it first (Stop-VzContainer), or use -Force to kill it." };
                await StopLockedAsync(id, record.Config ?? new VeConfig { Name = record.DisplayName, Container = new() }, kill: true, TimeSpan.Zero, ct);
            }
            else await CleanupAsync(id, ct);
        }
        // The store takes the VE lock itself (flock is per open file, so holding it here would deadlock).
        store.Remove(id, ct);
        logger.LogInformation("Removed container {Name}.", record.DisplayName);
    }

    /// <summary>
    /// Renames a container. One whose hostname follows its name (no -Hostname of its own) gets the new hostname at
    /// once when it runs, in its UTS namespace and in /etc/hostname and /etc/hosts, so what Get-VzContainer reports
    /// is what the container has.
    /// </summary>
    public async Task<ContainerInfo> RenameAsync(Guid id, string newName, CancellationToken ct)
    {
        var (_, cfg) = RequireReady(id);
        store.Rename(id, newName, ct);
        if (cfg.Container!.Hostname is null)
        {
            using (store.AcquireVeLock(id, ct))
            {
                var (running, pid, _) = Live(id);
                if (running)
                {
                    await Network.SetHostnameAsync(pid, newName, ct);
                    ContainerFiles.WriteIdentity(RootPath(id), newName, cfg.Container);
                }
            }
        }
        return Describe(id);
    }

    /// <summary>
    /// Clones a stopped container: new id, name, MAC and id range, its tree copied (reflinked where the file system
    /// can) and re-owned. The clone gets no IP addresses, so it never collides with the original.
    /// </summary>
    public async Task<ContainerInfo> CopyAsync(Guid id, string newName, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        VeNames.Validate(newName, "NewName");
        VeRecord record;
        using (store.AcquireVeLock(id, ct))
        {
            var (_, src) = RequireReady(id);
            if (Live(id).Running)
                throw new VzInvalidStateException("VzContainerRunning", $"The container {src.Name} is running; copy it while it is stopped.", src.Name)
                { RecommendedAction = "Stop it first with Stop-VzContainer." };
            var cfg = VeConfigFile.Clone(src);
            cfg.Id = Guid.Empty;
            cfg.CreatedAt = default;
            cfg.Name = newName;
            // Snapshots stay with the original (their data is in its folder).
            cfg.Snapshots = null;
            cfg.CurrentSnapshotId = null;
            var ctSettings = cfg.Container!;
            if (ctSettings.Hostname is null || string.Equals(ctSettings.Hostname, src.Name, StringComparison.OrdinalIgnoreCase)) ctSettings.Hostname = null;
            ctSettings.Network.MacAddress = MacAddresses.New();
            ctSettings.Network.IpAddresses = [];
            Virtuozzo.Engine.Network.Adapters.NetworkAdapterService.PrepareForCopy(cfg);
            using (IdRangeAllocator.Lock(paths, ct))
            {
                ctSettings.UidBase = IdRangeAllocator.Next(store.List());
                record = store.BeginCreate(cfg, ct);
            }
            try
            {
                progress?.Report(new VzProgress($"Copying container {src.Name}", $"to {newName}", 10));
                if (ctSettings.Layout == ContainerLayout.Image)
                {
                    var image = ImageLayout.ImagePath(record.Directory);
                    await runner.RunAsync("cp", ["--sparse=always", "--reflink=auto", "--", ImageLayout.ImagePath(paths.VeDirectory(id)), image],
                        new ProcessRunOptions { Timeout = TimeSpan.FromMinutes(30), Target = newName }, ct);
                    await Images.MountAsync(image, RootPath(record.Id), newName, ct);
                    try { OwnershipShifter.Shift(RootPath(record.Id), src.Container!.UidBase, ctSettings.UidBase, ct: ct); }
                    finally { await Images.UnmountAsync(RootPath(record.Id), newName, CancellationToken.None); }
                }
                else
                {
                    await CopyTreeAsync(RootPath(id), RootPath(record.Id), ct);
                    OwnershipShifter.Shift(RootPath(record.Id), src.Container!.UidBase, ctSettings.UidBase, ct: ct);
                }
                PrepareVeDirectory(record.Id);
                store.CompleteCreation(record.Id);
                progress?.Report(new VzProgress($"Copying container {src.Name}", "done", 100, true));
            }
            catch
            {
                try { store.Remove(record.Id, CancellationToken.None); }
                catch (Exception ex) { logger.LogWarning("Could not remove the half-made copy {Id}: {Message}", record.Id, ex.Message); }
                throw;
            }
        }
        logger.LogInformation("Copied container to {Name} ({Id}).", newName, record.Id);
        return Describe(record.Id);
    }

    /// <summary>
    /// Changes settings; on a running container the new limits, hostname, DNS servers and addresses take effect at
    /// once. The live change happens first and the config is written only when it worked, so both agree.
    /// </summary>
    public async Task<ContainerInfo> SetAsync(Guid id, ContainerChanges changes, CancellationToken ct)
    {
        using (var held = store.AcquireVeLock(id, ct))
        {
            var (_, current) = RequireReady(id);
            var host = HostLimits.Read();
            var updated = VeConfigFile.Clone(current);
            ContainerConfigurator.Apply(updated, changes, host);
            // A larger guarantee on a running container must still fit beside the others; otherwise it is not set.
            if (Memory.MemoryPlanner.Protection(updated) > Memory.MemoryPlanner.Protection(current) && Live(id).Running)
                Admission?.Invoke(updated);
            if (updated.Container!.Layout != current.Container!.Layout)
                throw new VzInvalidArgumentException("VzLayoutChangeUnsupported", "The disk layout of an existing container cannot be changed.", current.Name, "Layout");
            if (updated.Container.DiskSize != current.Container.DiskSize)
            {
                if (updated.Container.Layout != ContainerLayout.Image)
                    throw new VzInvalidArgumentException("VzDiskSizeNeedsImage", $"The container {current.Name} uses the Directory layout, which has no disk size.", current.Name, "DiskSize");
                await Images.GrowAsync(ImageLayout.ImagePath(paths.VeDirectory(id)), RootPath(id), updated.Container.DiskSize!.Value, current.Name, ct);
            }
            var (running, pid, _) = Live(id);
            if (running)
            {
                CgroupPlacement.Change(id, current, updated, host.CpuCount);
                var hostname = updated.Container.Hostname ?? updated.Name;
                if (hostname != (current.Container.Hostname ?? current.Name)) await Network.SetHostnameAsync(pid, hostname, ct);
                ContainerFiles.WriteIdentity(RootPath(id), hostname, updated.Container);
                await Network.ChangeAsync(id, pid, current.Container.Network, updated.Container.Network, ct);
            }
            store.UpdateLocked(held, id, cfg =>
            {
                cfg.Memory = updated.Memory;
                cfg.Cpu = updated.Cpu;
                cfg.OnBoot = updated.OnBoot;
                cfg.Description = updated.Description;
                cfg.Container = updated.Container;
            });
            logger.LogInformation("Changed container {Name}{Live}.", current.Name, running ? " (live)" : "");
            if (changes.SwapSize is not null) WarnUnapplied(updated);
        }
        return Describe(id);
    }

    /// <summary>A warning (WriteWarning in the cmdlet) for each setting of <paramref name="cfg"/> this host cannot enforce.</summary>
    private void WarnUnapplied(VeConfig? cfg)
    {
        if (cfg is null) return;
        foreach (var w in ContainerConfigurator.Unapplied(cfg, SwapAccounting.IsEnabled)) logger.LogWarning("{Name}: {Warning}", cfg.Name, w);
    }
}
