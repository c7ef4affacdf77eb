using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Containers.Runtime;
using Virtuozzo.Engine.Containers.Templates;
using Virtuozzo.Engine.Errors;
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
            Memory = new MemorySettings { Size = ContainerConfigurator.DefaultMemorySize },
            Container = new ContainerSettings { Template = template, Network = new ContainerNetworkSettings { MacAddress = NetworkSetup.NewMacAddress() } },
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
                try
                {
                    await CopyTreeAsync(tpl.RootPath + "/.", RootPath(record.Id), ct);
                    OwnershipShifter.Shift(RootPath(record.Id), 0, cfg.Container.UidBase, ct: ct);
                }
                finally { await Images.UnmountAsync(RootPath(record.Id), name, CancellationToken.None); }
            }
            else
            {
                await CopyTreeAsync(tpl.RootPath, RootPath(record.Id), ct);
                OwnershipShifter.Shift(RootPath(record.Id), 0, cfg.Container.UidBase, ct: ct);
            }
            PrepareVeDirectory(record.Id);
            store.CompleteCreation(record.Id);
            progress?.Report(new VzProgress($"Creating container {name}", "done", 100, true));
            logger.LogInformation("Created container {Name} ({Id}) from {Template}.", name, record.Id, template);
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
            Admission?.Invoke(cfg);
            if (Directory.Exists(RunDir(id)) || Cgroups.Exists(CgroupPath(id)))
                await CleanupAsync(id, ct); // a container that died leaves runtime state and cgroups: clear them first
            progress?.Report(new VzProgress($"Starting container {cfg.Name}", "preparing", 10));
            var runtime = Runtime(SelectRuntimeName());
            var host = HostLimits.Read();
            Cgroups.CheckControllers(CgroupPath(id), ContainerConfigurator.ToLimits(cfg, host.CpuCount)); // a missing controller is named before anything starts
            var ctSettings = cfg.Container!;
            var root = RootPath(id);
            var hostname = ctSettings.Hostname ?? cfg.Name;
            if (ctSettings.Layout == ContainerLayout.Image) await Images.MountAsync(ImageLayout.ImagePath(record.Directory), root, cfg.Name, ct);
            WriteIdentityFiles(root, hostname, ctSettings);
            var bundle = record.Directory;
            PrepareVeDirectory(id);
            // Regenerated at every start from ve.yaml, so it needs no fsync (the config is the durable truth).
            File.WriteAllText(Path.Combine(bundle, "config.json"), OciBundle.ToJson(new OciBundleInput
            {
                RootPath = root,
                Hostname = hostname,
                InitArgs = [ctSettings.Init],
                UidBase = ctSettings.UidBase,
                UidCount = ctSettings.UidCount,
                CgroupsPath = "/" + CgroupPath(id),
                Limits = ContainerConfigurator.ToLimits(cfg, host.CpuCount),
            }));
            var run = RunDir(id);
            Directory.CreateDirectory(run, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.WriteAllText(Path.Combine(run, RunRuntimeFile), runtime.Name);
            try
            {
                var pidFile = Path.Combine(run, RunPidFile);
                var console = Path.Combine(run, ConsoleLog);
                var limits = ContainerConfigurator.ToLimits(cfg, host.CpuCount);
                if (ctSettings.Network.IpAddresses.Count == 0)
                {
                    // Nothing to plumb before init runs: one runtime call (run -d) instead of two (create + start).
                    progress?.Report(new VzProgress($"Starting container {cfg.Name}", $"{runtime.Name} run", 30));
                    await runtime.RunDetachedAsync(RuntimeId(id), bundle, pidFile, console, cfg.Name, ct);
                    RecordInit(run, cfg.Name);
                    Cgroups.Apply(CgroupPath(id), limits);
                }
                else
                {
                    // eth0 must exist before init's boot scripts run: create, plumb the network, then start.
                    progress?.Report(new VzProgress($"Starting container {cfg.Name}", $"{runtime.Name} create", 30));
                    await runtime.CreateAsync(RuntimeId(id), bundle, pidFile, console, cfg.Name, ct);
                    var pid = RecordInit(run, cfg.Name);
                    // The engine's limits are authoritative (both runtimes then agree, e.g. on cpu.shares rounding).
                    Cgroups.Apply(CgroupPath(id), limits);
                    progress?.Report(new VzProgress($"Starting container {cfg.Name}", "network", 60));
                    await Network.AttachAsync(id, pid, ctSettings.Network, ct);
                    await runtime.StartAsync(RuntimeId(id), cfg.Name, ct);
                }
            }
            catch
            {
                await CleanupAsync(id, CancellationToken.None);
                throw;
            }
            progress?.Report(new VzProgress($"Starting container {cfg.Name}", "running", 100, true));
            logger.LogInformation("Started container {Name} with {Runtime}.", cfg.Name, runtime.Name);
        }
        return Describe(id);
    }

    /// <summary>Reads the init pid the runtime wrote and records its start time, so a recycled pid is never mistaken for it.</summary>
    private static int RecordInit(string run, string name)
    {
        var pid = int.TryParse(ReadSmall(Path.Combine(run, RunPidFile)), out var p) ? p : 0;
        var stat = (pid > 0 ? ProcStat.Read(pid) : null);
        if (stat is not { IsAlive: true })
        {
            // The run folder (and its console log) is cleaned up after this, so the log's tail goes into the error.
            var log = ReadSmall(Path.Combine(run, ConsoleLog)) ?? "";
            if (log.Length > 2000) log = log[^2000..];
            throw new VzInvalidStateException("VzContainerDiedOnStart",
                $"The init of {name} exited during start.{(log.Length > 0 ? " Its console said: " + log : "")}", name)
            { RecommendedAction = "Check the template's init (/sbin/init) inside the container." };
        }
        File.WriteAllText(Path.Combine(run, RunStartFile), stat.StartTimeTicks.ToString());
        return pid;
    }

    private static void WriteIdentityFiles(string root, string hostname, ContainerSettings ct)
    {
        ContainerFiles.Write(root, "etc/hostname", hostname + "\n", ct.UidBase);
        var hosts = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n";
        var first = ct.Network.IpAddresses.FirstOrDefault();
        hosts += first is null ? $"127.0.1.1 {hostname}\n" : $"{first[..first.IndexOf('/')]} {hostname}\n";
        ContainerFiles.Write(root, "etc/hosts", hosts, ct.UidBase);
        if (ct.Nameservers.Count > 0)
            ContainerFiles.Write(root, "etc/resolv.conf", string.Concat(ct.Nameservers.Select(n => $"nameserver {n}\n")), ct.UidBase);
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
            var runtime = Runtime(runtimeName);
            if (Cgroups.ReadStats(CgroupPath(id)).Frozen) Cgroups.SetFrozen(CgroupPath(id), false, TimeSpan.FromSeconds(10)); // a frozen init cannot act on a signal
            var exited = false;
            if (!kill)
            {
                await runtime.KillAsync(RuntimeId(id), cfg.Container!.StopSignal, cfg.Name, ct);
                exited = await WaitForExitAsync(pid, timeout, ct);
                if (!exited) logger.LogWarning("Container {Name} did not stop within {Seconds} s; killing it.", cfg.Name, timeout.TotalSeconds);
            }
            if (!exited)
            {
                await runtime.KillAsync(RuntimeId(id), "SIGKILL", cfg.Name, ct);
                if (!await WaitForExitAsync(pid, KillWait, ct))
                    throw new VzTimeoutException("VzContainerStopTimedOut", $"The init of {cfg.Name} (pid {pid}) survived SIGKILL for {KillWait.TotalSeconds} s.", cfg.Name, KillWait);
            }
            logger.LogInformation("Stopped container {Name}.", cfg.Name);
        }
        await CleanupAsync(id, ct);
    }

    /// <summary>
    /// Waits until the init is gone or a zombie. There is no portable event for "another process's child exited",
    /// so this polls /proc (cheap) with a bound.
    /// </summary>
    private static async Task<bool> WaitForExitAsync(int pid, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (ProcStat.Read(pid) is { IsAlive: true })
        {
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(25, ct);
        }
        return true;
    }

    /// <summary>Removes everything a (stopped) container run leaves: runtime state, host veth, cgroups, run folder.</summary>
    private async Task CleanupAsync(Guid id, CancellationToken ct)
    {
        var runtimeName = ReadSmall(Path.Combine(RunDir(id), RunRuntimeFile));
        foreach (var name in runtimeName is null ? ["crun", "runc"] : new[] { runtimeName })
            if (ToolLocator.Find(name) is not null) await Runtime(name).DeleteAsync(RuntimeId(id), ct);
        await Network.DetachAsync(id, ct);
        // The init's zombie is reaped by the host's PID 1, sometimes a second or two late; until then rmdir says busy.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try { Cgroups.Delete(CgroupPath(id), paths.CgroupParent); break; }
            catch (VzInvalidStateException) when (DateTime.UtcNow < deadline) { await Task.Delay(100, ct); }
        }
        if (Directory.Exists(RunDir(id))) Directory.Delete(RunDir(id), true);
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
            Cgroups.SetFrozen(CgroupPath(id), frozen, TimeSpan.FromSeconds(30));
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

    public ContainerInfo Rename(Guid id, string newName, CancellationToken ct)
    {
        RequireReady(id);
        store.Rename(id, newName, ct);
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
            var ctSettings = cfg.Container!;
            if (ctSettings.Hostname is null || string.Equals(ctSettings.Hostname, src.Name, StringComparison.OrdinalIgnoreCase)) ctSettings.Hostname = null;
            ctSettings.Network.MacAddress = NetworkSetup.NewMacAddress();
            ctSettings.Network.IpAddresses = [];
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
                var before = ContainerConfigurator.ToLimits(current, host.CpuCount);
                var after = ContainerConfigurator.ToLimits(updated, host.CpuCount);
                try { Cgroups.Apply(CgroupPath(id), after); }
                catch
                {
                    try { Cgroups.Apply(CgroupPath(id), before); } catch (VzException) { } // best effort: put the old values back
                    throw;
                }
                var hostname = updated.Container.Hostname ?? updated.Name;
                if (hostname != (current.Container.Hostname ?? current.Name)) await Network.SetHostnameAsync(pid, hostname, ct);
                WriteIdentityFiles(RootPath(id), hostname, updated.Container);
                var oldNet = current.Container.Network;
                var newNet = updated.Container.Network;
                if (!oldNet.IpAddresses.SequenceEqual(newNet.IpAddresses) || oldNet.Mode != newNet.Mode || oldNet.Gateway != newNet.Gateway || oldNet.Bridge != newNet.Bridge)
                {
                    if (oldNet.Mode != newNet.Mode || oldNet.Bridge != newNet.Bridge) await Network.DetachAsync(id, ct);
                    if (newNet.IpAddresses.Count > 0) await Network.ConfigureAddressesAsync(id, pid, newNet, ct);
                    else await Network.DetachAsync(id, ct);
                }
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
        }
        return Describe(id);
    }
}
