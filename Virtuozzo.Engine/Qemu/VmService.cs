using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>
/// The VM area: create, list, start/stop, pause, change, clone, rename, remove, and disks. Each VM is one
/// daemonized qemu-system-x86_64; its state is derived from the process and its run folder on every call.
/// </summary>
public sealed class VmService : Disks.IOnlineDiskResizer
{
    public const long MinMemorySize = 32L * 1024 * 1024;
    public const long MinHotplugMemorySize = 1024L * 1024 * 1024;
    /// <summary>Linux onlines hotplugged memory in 128 MiB blocks; DIMMs come in multiples of it.</summary>
    public const long DimmGranularity = 128L * 1024 * 1024;

    private readonly VzPaths paths;
    private readonly VeStore store;
    private readonly HostProbe host;
    private readonly ILogger logger;
    private readonly QemuProcess process;
    private readonly QemuImg images;
    private readonly ProcessRunner runner;
    private readonly Lazy<ICgroupBackend> cgroups;

    /// <summary>Admission control run before a start: throws when the VM's guarantee does not fit.</summary>
    public Action<VeConfig>? Admission { get; init; }

    public VmService(VzPaths paths, VeStore store, HostProbe host, ProcessRunner runner, Func<ICgroupBackend> cgroupBackend, ILogger logger)
    {
        cgroups = new(cgroupBackend);
        this.paths = paths;
        this.store = store;
        this.host = host;
        this.runner = runner;
        this.logger = logger;
        process = new QemuProcess(runner, logger);
        images = new QemuImg(runner);
        Guest = new VmGuestService(this, logger);
    }

    /// <summary>Guest tools over the agent (exec, password, info, network).</summary>
    public VmGuestService Guest { get; }

    public VmRuntimePaths RuntimePaths(Guid id) => VmRuntimePaths.For(paths, id);

    /// <summary>The VM's own cgroup (relative, the same in every hierarchy): CPU weight and limit, memory guarantee.</summary>
    public string CgroupPath(Guid id) => $"{paths.CgroupParent}/vm-{id:N}";

    /// <summary>
    /// The cgroup limits of a VM. No hard memory limit: QEMU needs RAM plus its own overhead, and an OOM kill of a
    /// VM is worse than the host reclaiming. The protection (guarantee plus QEMU's overhead, vcmmd's mem_min)
    /// becomes memory.low / soft limit.
    /// </summary>
    internal static CgroupLimits LimitsFor(VeConfig config) => new()
    {
        MemoryLow = Memory.MemoryPlanner.Protection(config),
        CpuUnits = config.Cpu.Units,
        CpuPeriodMicroseconds = CgroupUnits.DefaultCfsPeriod,
        CpuQuotaMicroseconds = config.Cpu.LimitPercent is > 0 and var pct ? CgroupUnits.QuotaFromPercent(pct) : -1,
    };

    /// <summary>Deletes the VM's cgroup once QEMU is gone; retried briefly because a dying QEMU may linger a moment.</summary>
    private void DeleteCgroup(Guid id)
    {
        for (var attempt = 0; ; attempt++)
        {
            try { if (cgroups.Value.Exists(CgroupPath(id))) cgroups.Value.Delete(CgroupPath(id), paths.CgroupParent); return; }
            catch (Exception ex) when (ex is IOException or VzException && attempt < 20) { Thread.Sleep(100); }
        }
    }

    // ---- listing ------------------------------------------------------------------------------------------

    /// <summary>Builds the view of one VM from its config and /proc; no subprocess, no socket.</summary>
    public VmInfo Describe(VeRecord record)
    {
        var config = record.Config ?? throw new VzConfigCorruptException(record.Directory, null, record.Error?.Message ?? "the VM's config cannot be read.");
        var vm = config.Vm ?? new VmSettings();
        var rt = RuntimePaths(record.Id);
        var status = QemuProcess.Inspect(rt);
        var state = !status.Alive ? (File.Exists(rt.SavedState) ? VmState.Saved : VmState.Stopped)
                    : File.Exists(rt.PausedMarker) ? VmState.Paused : VmState.Running;
        return new VmInfo
        {
            Name = config.Name,
            Id = config.Id,
            State = state,
            StateReason = state == VmState.Saved ? null : status.DeadReason,
            ProcessId = status.Pid,
            CpuCount = config.Cpu.Count ?? 1,
            CpuMask = config.Cpu.Mask,
            CpuLimit = config.Cpu.LimitPercent,
            CpuUnits = config.Cpu.Units,
            MemorySize = config.Memory.Size,
            MemGuaranteePercent = Memory.MemoryPlanner.EffectiveGuaranteePercent(config),
            MemHotplug = vm.MemHotplug,
            OnBoot = config.OnBoot,
            Firmware = vm.Firmware,
            Machine = vm.Machine,
            NetworkMode = vm.NetworkMode,
            MacAddress = vm.MacAddress,
            Disks = vm.Disks.Select(d => DescribeDisk(config, d)).ToList(),
            DvdDrives = vm.DvdDrives.ToList(),
            GuestToolsState = status.Alive ? GuestToolsState.NotQueried : GuestToolsState.NotRunning,
            PendingChanges = vm.Pending?.ToString() ?? "",
            Description = config.Description,
            Directory = record.Directory,
            CreatedAt = config.CreatedAt,
        };
    }

    /// <summary><see cref="Describe"/> plus a guest-sync round trip for running VMs (Get-VzVm -GuestTools).</summary>
    public async Task<VmInfo> DescribeWithGuestToolsAsync(VeRecord record, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = Describe(record);
        if (info.State == VmState.Stopped) return info;
        try
        {
            await VmConnections.WithAgentAsync(RuntimePaths(record.Id), info.Name, timeout, _ => Task.FromResult(true), cancellationToken);
            return info with { GuestToolsState = GuestToolsState.Responding };
        }
        catch (VzException) { return info with { GuestToolsState = GuestToolsState.NotResponding }; }
    }

    public VmDiskInfo DescribeDisk(VeConfig config, VmDisk disk)
    {
        var full = ResolvePath(config.Id, disk.Path);
        long size = 0;
        try { size = new FileInfo(full).Exists ? new FileInfo(full).Length : 0; } catch (IOException) { }
        return new VmDiskInfo { VmName = config.Name, VmId = config.Id, DiskId = disk.Id, Path = full, Format = disk.Format, FileSize = size, BackingFile = disk.BackingFile };
    }

    // ---- create -------------------------------------------------------------------------------------------

    public async Task<VmInfo> CreateAsync(VmCreateOptions o, CancellationToken cancellationToken)
    {
        Validate(o);
        var config = new VeConfig
        {
            Name = o.Name,
            Type = VeType.VirtualMachine,
            Description = o.Description,
            Memory = new MemorySettings { Size = o.MemorySize, GuaranteePercent = o.MemGuaranteePercent },
            Cpu = new CpuSettings { Count = o.CpuCount },
            Vm = new VmSettings
            {
                Machine = o.Machine,
                Firmware = o.Firmware,
                MemHotplug = o.MemHotplug,
                MaxMemorySize = o.MemHotplug ? MaxHotplugMemory(o.MemorySize) : 0,
                NetworkMode = o.NetworkMode,
                Bridge = o.Bridge,
                MacAddress = NewMacAddress(),
                KernelPath = o.KernelPath is null ? null : Path.GetFullPath(o.KernelPath),
                InitrdPath = o.InitrdPath is null ? null : Path.GetFullPath(o.InitrdPath),
                KernelArguments = o.KernelArguments,
            },
        };
        if (o.DiskPath is { } existing)
            config.Vm.Disks.Add(new VmDisk { Id = "disk0", Path = Path.GetFullPath(existing), Format = await FormatOfAsync(existing, cancellationToken) });
        else if (o.DiskSize > 0)
            config.Vm.Disks.Add(new VmDisk { Id = "disk0", Path = "disk0.qcow2", Format = "qcow2" });
        if (o.IsoPath is { } iso) config.Vm.DvdDrives.Add(new VmDvdDrive { Id = "cd0", IsoPath = Path.GetFullPath(iso) });

        var record = store.BeginCreate(config, cancellationToken);
        try
        {
            if (o.DiskPath is null && o.DiskSize > 0)
                await images.CreateAsync(Path.Combine(record.Directory, "disk0.qcow2"), o.DiskSize, cancellationToken);
            if (o.Firmware == VmFirmware.Efi) CopyEfiVars(RuntimePaths(config.Id));
            store.CompleteCreation(config.Id);
        }
        catch
        {
            // Bad input or a failed disk: nothing half-made stays behind.
            try { store.Remove(config.Id, CancellationToken.None); } catch (Exception ex) { logger.LogWarning("Could not remove the half-created VM {Id}: {Error}", config.Id, ex.Message); }
            throw;
        }
        logger.LogInformation("Created VM '{Name}' ({Id}).", config.Name, config.Id);
        return Describe(store.TryGet(config.Id)!);
    }

    private void Validate(VmCreateOptions o)
    {
        VeNames.Validate(o.Name);
        if (o.MemorySize < MinMemorySize)
            throw new VzInvalidArgumentException("VzInvalidMemorySize", $"A VM needs at least {MinMemorySize / (1024 * 1024)} MB of RAM; {o.MemorySize} bytes was given.", o.Name, "MemorySize");
        if (o.MemorySize % (1024 * 1024) != 0)
            throw new VzInvalidArgumentException("VzInvalidMemorySize", "The VM's RAM must be a whole number of MiB (for example 512MB).", o.Name, "MemorySize");
        if (o.CpuCount is < 1 or > 255)
            throw new VzInvalidArgumentException("VzInvalidCpuCount", $"CpuCount must be 1-255; {o.CpuCount} was given.", o.Name, "CpuCount");
        if (o.MemGuaranteePercent is < 0 or > 100)
            throw new VzInvalidArgumentException("VzInvalidMemGuarantee", "MemGuarantee must be 0-100 or Auto.", o.Name, "MemGuarantee");
        if (o.MemHotplug && o.MemorySize < MinHotplugMemorySize)
            throw new VzInvalidArgumentException("VzMemHotplugTooSmall", "Memory hotplug needs at least 1 GB of RAM (as in Virtuozzo 7).", o.Name, "MemHotplug")
            { RecommendedAction = "Give -MemorySize 1GB or more, or leave out -MemHotplug." };
        if (o.DiskPath is not null && o.DiskSize > 0)
            throw new VzInvalidArgumentException("VzConflictingDiskOptions", "Give -DiskSize for a new disk or -DiskPath for an existing one, not both.", o.Name, "DiskPath");
        if (o.DiskSize < 0) throw new VzInvalidArgumentException("VzInvalidDiskSize", "DiskSize must be positive.", o.Name, "DiskSize");
        RequireFile(o.DiskPath, "DiskPath", o.Name);
        RequireFile(o.IsoPath, "IsoPath", o.Name);
        RequireFile(o.KernelPath, "KernelPath", o.Name);
        RequireFile(o.InitrdPath, "InitrdPath", o.Name);
        if (o.InitrdPath is not null && o.KernelPath is null)
            throw new VzInvalidArgumentException("VzInitrdWithoutKernel", "-InitrdPath needs -KernelPath.", o.Name, "InitrdPath");
        if (o.NetworkMode == VmNetworkMode.Bridge && (o.Bridge is null || !Directory.Exists($"/sys/class/net/{o.Bridge}/bridge")))
            throw new VzInvalidArgumentException("VzBridgeNotFound", $"There is no bridge '{o.Bridge}' on this host.", o.Name, "Network")
            { RecommendedAction = "Create the bridge first (ip link add NAME type bridge), or use -Network User or None." };
        if (o.Machine is not ("q35" or "pc"))
            throw new VzInvalidArgumentException("VzInvalidMachine", "Machine must be q35 or pc.", o.Name, "Machine");
        if (o.Firmware == VmFirmware.Efi && (!File.Exists(QemuCommandLine.OvmfCode) || !File.Exists(QemuCommandLine.OvmfVarsTemplate)))
            throw new VzCapabilityMissingException("VzOvmfMissing", "UEFI firmware (OVMF) is not installed.", o.Name, "ovmf")
            { RecommendedAction = "apt-get install ovmf" };
        if (o.Firmware == VmFirmware.Efi && o.Machine != "q35")
            throw new VzInvalidArgumentException("VzEfiNeedsQ35", "EFI VMs use the q35 machine.", o.Name, "Firmware");
    }

    private static void RequireFile(string? path, string parameter, string name)
    {
        if (path is not null && !File.Exists(path))
            throw new VzInvalidArgumentException("VzFileNotFound", $"The file '{path}' given with -{parameter} does not exist.", path, parameter);
    }

    private async Task<string> FormatOfAsync(string path, CancellationToken ct) => (await images.InfoAsync(path, ct)).Format;

    /// <summary>Up to 4x the RAM, at most the host's RAM, rounded to DIMM granularity.</summary>
    private static long MaxHotplugMemory(long size)
    {
        var hostTotal = MemInfo.Read().Total;
        var max = Math.Max(size, Math.Min(size * 4, hostTotal));
        return max / DimmGranularity * DimmGranularity < size ? size : max / DimmGranularity * DimmGranularity;
    }

    /// <summary>A locally administered unicast address would do, but Virtuozzo VMs carry the Parallels OUI 00:1C:42.</summary>
    public static string NewMacAddress()
    {
        Span<byte> b = stackalloc byte[3];
        RandomNumberGenerator.Fill(b);
        return $"00:1C:42:{b[0]:X2}:{b[1]:X2}:{b[2]:X2}";
    }

    private static void CopyEfiVars(VmRuntimePaths rt)
    {
        if (!File.Exists(rt.EfiVars)) File.Copy(QemuCommandLine.OvmfVarsTemplate, rt.EfiVars);
        File.SetUnixFileMode(rt.EfiVars, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public string ResolvePath(Guid id, string path) => Path.IsPathRooted(path) ? path : Path.Combine(paths.VeDirectory(id), path);

    // ---- start / stop -------------------------------------------------------------------------------------

    public async Task<VmInfo> StartAsync(Guid id, bool wait, TimeSpan timeout, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var rt = RuntimePaths(id);
        string name;
        using (var veLock = store.AcquireVeLock(id, cancellationToken))
        {
            var record = store.TryGet(id) ?? throw NotFound(id);
            name = record.DisplayName;
            if (QemuProcess.Inspect(rt).Alive)
            {
                logger.LogInformation("VM '{Name}' is already running.", name);
            }
            else
            {
                progress?.Report(new VzProgress($"Starting VM '{name}'", "Launching QEMU", 5));
                var restore = File.Exists(rt.SavedState);
                var config = store.UpdateLocked(veLock, id, c =>
                {
                    // A cold start folds hot-added DIMMs into the base RAM; a restore needs the saved layout.
                    if (!restore) c.Vm!.Dimms.Clear();
                    // Pending changes take effect now that QEMU starts afresh.
                    if (c.Vm?.Pending is { } p)
                    {
                        if (p.CpuCount is { } n) c.Cpu.Count = n;
                        if (p.MemorySize is { } m) c.Memory.Size = m;
                        c.Vm.Pending = null;
                    }
                });
                Admission?.Invoke(config);
                var vm = config.Vm!;
                foreach (var d in vm.Disks)
                    if (!File.Exists(ResolvePath(id, d.Path)))
                        throw new VzInvalidStateException("VzVmDiskMissing", $"The disk '{d.Id}' of VM '{name}' ({ResolvePath(id, d.Path)}) does not exist.", name)
                        { RecommendedAction = "Remove it with Remove-VzVmDisk or put the file back." };
                if (vm.Firmware == VmFirmware.Efi) CopyEfiVars(rt);
                rt.ValidateSocketPaths();
                var caps = await host.GetAsync(false, cancellationToken);
                if (restore) progress?.Report(new VzProgress($"Starting VM '{name}'", "Loading the saved memory state", 5));
                var args = QemuCommandLine.Build(config, rt, caps.Accelerator, p => ResolvePath(id, p), restore ? rt.SavedState : null);
                var pid = await process.StartAsync(rt, args, name, cancellationToken);
                try
                {
                    // Its own cgroup: the VM's CPU weight and limit and memory guarantee apply to all QEMU threads.
                    var cg = CgroupPath(id);
                    cgroups.Value.Create(cg);
                    cgroups.Value.Apply(cg, LimitsFor(config));
                    cgroups.Value.AddProcess(cg, pid);
                    if (vm.NetworkMode == VmNetworkMode.Bridge && vm.Bridge is { } br)
                        await runner.RunAsync("ip", ["link", "set", "dev", QemuCommandLine.TapName(id), "master", br, "up"], new ProcessRunOptions { Target = name }, cancellationToken);
                    if (config.Cpu.Mask is { Length: > 0 } mask) await PinVcpusAsync(rt, name, mask, cancellationToken);
                    if (restore) await FinishRestoreAsync(rt, name, cancellationToken);
                }
                catch
                {
                    await QemuProcess.KillAsync(pid, name, CancellationToken.None);
                    QemuProcess.CleanRunDirectory(rt);
                    DeleteCgroup(id);
                    throw;
                }
            }
        }
        if (wait) await WaitForAgentAsync(rt, name, timeout, progress, cancellationToken);
        progress?.Report(new VzProgress($"Starting VM '{name}'", "Running", 100) { Completed = true });
        return Describe(store.TryGet(id) ?? throw NotFound(id));
    }

    /// <summary>Waits for QEMU to load the saved state, lets the vCPUs run, and deletes the state file.</summary>
    private async Task FinishRestoreAsync(VmRuntimePaths rt, string name, CancellationToken ct)
    {
        await VmConnections.WithMonitorAsync(rt, name, async qmp =>
        {
            var end = DateTime.UtcNow + TimeSpan.FromMinutes(5);
            while (true)
            {
                var status = (await qmp.ExecuteAsync("query-status", null, VmConnections.MonitorTimeout, ct))?["status"]?.GetValue<string>();
                if (status is "paused" or "postmigrate" or "prelaunch") { await qmp.ExecuteAsync("cont", null, VmConnections.MonitorTimeout, ct); break; }
                if (status == "running") break;
                if (status is "inmigrate" && DateTime.UtcNow < end) { await Task.Delay(100, ct); continue; }
                throw new VzInvalidStateException("VzVmRestoreFailed", $"QEMU could not load the saved state of '{name}' (status {status}).", name)
                { RecommendedAction = $"Discard the saved state with Stop-VzVm -Name '{name}' and start it afresh." };
            }
            return true;
        }, ct);
        File.Delete(rt.SavedState);
        logger.LogInformation("Restored '{Name}' from its saved state.", name);
    }

    /// <summary>Polls guest-sync until the agent answers: the guest booted far enough to take commands.</summary>
    private static async Task WaitForAgentAsync(VmRuntimePaths rt, string name, TimeSpan timeout, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var left = timeout - watch.Elapsed;
            if (left <= TimeSpan.Zero)
                throw new VzTimeoutException("VzGuestAgentNotResponding", $"The guest agent of '{name}' did not answer within {timeout.TotalSeconds:0} s of the start.", name, timeout)
                { RecommendedAction = "The VM keeps running: check its console.log, install qemu-guest-agent in the guest, or start without -Wait." };
            var status = QemuProcess.Inspect(rt);
            if (!status.Alive)
                throw new VzInvalidStateException("VzVmExited", $"The VM '{name}' stopped while booting: {status.DeadReason}", name)
                { RecommendedAction = "Look at console.log in the VM's folder." };
            progress?.Report(new VzProgress($"Starting VM '{name}'", $"Waiting for the guest agent ({watch.Elapsed.TotalSeconds:0} s)", (int)Math.Min(95, 10 + 85 * watch.Elapsed / timeout)));
            try
            {
                await VmConnections.WithAgentAsync(rt, name, TimeSpan.FromSeconds(Math.Min(3, left.TotalSeconds)), _ => Task.FromResult(true), ct);
                return;
            }
            catch (VzTimeoutException) { }
            catch (VzInvalidStateException) when (QemuProcess.Inspect(rt).Alive) { await Task.Delay(250, ct); }
        }
    }

    public async Task<VmInfo> StopAsync(Guid id, VmStopMode mode, TimeSpan timeout, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var rt = RuntimePaths(id);
        var record = store.TryGet(id) ?? throw NotFound(id);
        var name = record.DisplayName;
        using (store.AcquireVeLock(id, cancellationToken))
        {
            var status = QemuProcess.Inspect(rt);
            if (!status.Alive)
            {
                // Stopping a VM suspended to disk discards its saved state: the next start boots afresh.
                if (File.Exists(rt.SavedState)) File.Delete(rt.SavedState);
                QemuProcess.CleanRunDirectory(rt); // a crashed VM's leftovers
                DeleteCgroup(id);
                return Describe(store.TryGet(id)!);
            }
            var pid = status.Pid!.Value;
            File.WriteAllText(rt.StoppingMarker, mode.ToString());
            progress?.Report(new VzProgress($"Stopping VM '{name}'", mode == VmStopMode.Kill ? "Terminating QEMU" : "Asking the guest to shut down", 10));
            if (mode == VmStopMode.Kill)
            {
                Native.LibC.kill(pid, 15); // QEMU exits at once on SIGTERM, closing its images cleanly
                if (!await QemuProcess.WaitForExitAsync(pid, TimeSpan.FromSeconds(5), cancellationToken))
                    await QemuProcess.KillAsync(pid, name, cancellationToken);
            }
            else
            {
                var asked = false;
                if (mode == VmStopMode.Graceful && !File.Exists(rt.PausedMarker))
                {
                    try
                    {
                        await VmConnections.WithAgentAsync(rt, name, TimeSpan.FromSeconds(3), async qga =>
                        {
                            await qga.ExecuteAsync("guest-shutdown", new JsonObject { ["mode"] = "powerdown" }, TimeSpan.FromSeconds(3), cancellationToken, expectReply: false);
                            return true;
                        }, cancellationToken);
                        asked = true;
                        logger.LogInformation("Asked the guest agent of '{Name}' to power off.", name);
                    }
                    catch (VzException ex) { logger.LogInformation("The guest agent of '{Name}' did not take the shutdown ({Error}); pressing the ACPI power button.", name, ex.Message); }
                }
                if (!asked)
                {
                    await VmConnections.WithMonitorAsync(rt, name, async qmp =>
                    {
                        if (File.Exists(rt.PausedMarker)) await qmp.ExecuteAsync("cont", null, VmConnections.MonitorTimeout, cancellationToken);
                        return await qmp.ExecuteAsync("system_powerdown", null, VmConnections.MonitorTimeout, cancellationToken);
                    }, cancellationToken);
                }
                progress?.Report(new VzProgress($"Stopping VM '{name}'", "Waiting for the guest to power off", 50));
                if (!await QemuProcess.WaitForExitAsync(pid, timeout, cancellationToken))
                {
                    File.Delete(rt.StoppingMarker);
                    throw new VzTimeoutException("VzVmStopTimeout", $"The VM '{name}' did not power off within {timeout.TotalSeconds:0} s.", name, timeout)
                    { RecommendedAction = $"The guest may not handle shutdown requests: Stop-VzVm -Name '{name}' -Kill powers it off at once." };
                }
            }
            QemuProcess.CleanRunDirectory(rt);
            DeleteCgroup(id);
            logger.LogInformation("VM '{Name}' stopped.", name);
        }
        progress?.Report(new VzProgress($"Stopping VM '{name}'", "Stopped", 100) { Completed = true });
        return Describe(store.TryGet(id)!);
    }

    public async Task<VmInfo> RestartAsync(Guid id, bool wait, TimeSpan timeout, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        await StopAsync(id, VmStopMode.Graceful, timeout, progress, cancellationToken);
        return await StartAsync(id, wait, timeout, progress, cancellationToken);
    }

    /// <summary>
    /// Pauses the vCPUs (the VM keeps its memory and devices), or with <paramref name="saveState"/> writes memory and
    /// device state to the VM folder through QEMU's migration and ends QEMU; the next start resumes from it.
    /// </summary>
    public async Task<VmInfo> SuspendAsync(Guid id, bool saveState, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (rt, name) = Running(id);
        if (saveState)
        {
            using (store.AcquireVeLock(id, cancellationToken))
            {
                var pid = QemuProcess.Inspect(rt).Pid!.Value;
                var partial = rt.SavedState + ".partial";
                File.Delete(partial);
                await VmConnections.WithMonitorAsync(rt, name, async qmp =>
                {
                    await qmp.ExecuteAsync("stop", null, VmConnections.MonitorTimeout, cancellationToken);
                    await qmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"exec:cat > {QemuCommandLine.ShellQuote(partial)}" }, VmConnections.MonitorTimeout, cancellationToken);
                    var end = DateTime.UtcNow + timeout;
                    while (true)
                    {
                        var st = await qmp.ExecuteAsync("query-migrate", null, VmConnections.MonitorTimeout, cancellationToken);
                        var status = st?["status"]?.GetValue<string>();
                        if (status == "completed") break;
                        if (status is "failed" or "cancelled")
                        {
                            await qmp.ExecuteAsync("cont", null, VmConnections.MonitorTimeout, cancellationToken);
                            throw new VzInvalidStateException("VzVmSaveFailed", $"Saving the state of '{name}' failed: {st?["error-desc"]?.GetValue<string>() ?? status}. The VM runs on.", name);
                        }
                        if (DateTime.UtcNow > end)
                        {
                            await qmp.ExecuteAsync("migrate_cancel", null, VmConnections.MonitorTimeout, cancellationToken);
                            await qmp.ExecuteAsync("cont", null, VmConnections.MonitorTimeout, cancellationToken);
                            throw new VzTimeoutException("VzVmSaveTimeout", $"Saving the state of '{name}' took longer than {timeout.TotalSeconds:0} s; it was cancelled and the VM runs on.", name, timeout);
                        }
                        await Task.Delay(100, cancellationToken);
                    }
                    File.Move(partial, rt.SavedState, overwrite: true);
                    File.SetUnixFileMode(rt.SavedState, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                    File.WriteAllText(rt.StoppingMarker, "save");
                    try { await qmp.ExecuteAsync("quit", null, VmConnections.MonitorTimeout, cancellationToken); }
                    catch (VzInvalidStateException) { /* QEMU closed the monitor while quitting */ }
                    return true;
                }, cancellationToken);
                if (!await QemuProcess.WaitForExitAsync(pid, TimeSpan.FromSeconds(30), cancellationToken))
                    await QemuProcess.KillAsync(pid, name, cancellationToken);
                QemuProcess.CleanRunDirectory(rt);
                DeleteCgroup(id);
                logger.LogInformation("Saved the state of '{Name}' to {Path}.", name, rt.SavedState);
            }
            return Describe(store.TryGet(id)!);
        }
        await VmConnections.WithMonitorAsync(rt, name, qmp => qmp.ExecuteAsync("stop", null, VmConnections.MonitorTimeout, cancellationToken), cancellationToken);
        File.WriteAllText(rt.PausedMarker, "");
        return Describe(store.TryGet(id)!);
    }

    public async Task<VmInfo> ResumeAsync(Guid id, CancellationToken cancellationToken)
    {
        if (File.Exists(RuntimePaths(id).SavedState) && !QemuProcess.Inspect(RuntimePaths(id)).Alive)
            return await StartAsync(id, wait: false, TimeSpan.FromSeconds(60), null, cancellationToken);
        var (rt, name) = Running(id);
        await VmConnections.WithMonitorAsync(rt, name, qmp => qmp.ExecuteAsync("cont", null, VmConnections.MonitorTimeout, cancellationToken), cancellationToken);
        File.Delete(rt.PausedMarker);
        return Describe(store.TryGet(id)!);
    }

    // ---- remove / rename / copy ---------------------------------------------------------------------------

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
        DeleteCgroup(id);
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
        var clone = VeConfigFile.Clone(srcConfig);
        clone.Id = Guid.NewGuid();
        clone.Name = newName;
        clone.CreatedAt = default;
        clone.OnBoot = false;
        clone.Vm!.MacAddress = NewMacAddress();
        clone.Vm.Pending = null;
        var record = store.BeginCreate(clone, cancellationToken);
        var newSourceDisks = new List<VmDisk>();
        try
        {
            var i = 0;
            foreach (var disk in srcConfig.Vm!.Disks)
            {
                progress?.Report(new VzProgress($"Copying VM '{srcName}' to '{newName}'", $"Disk {disk.Id}", 100 * i++ / Math.Max(1, srcConfig.Vm.Disks.Count)));
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
                    await images.ConvertAsync(srcPath, Path.Combine(record.Directory, fileName), cancellationToken);
                    target.BackingFile = null;
                }
                target.Path = fileName;
                target.Format = "qcow2";
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
            VmExportFormat.LibvirtXml => LibvirtDomainXml.Build(config, RuntimePaths(id), caps.Accelerator, p => ResolvePath(id, p)),
            _ => throw new VzInvalidArgumentException("VzInvalidExportFormat", $"Unknown export format {format}.", record.DisplayName, "Format"),
        };
    }

    // ---- settings -----------------------------------------------------------------------------------------

    public async Task<VmSetResult> SetAsync(Guid id, VmSetOptions o, CancellationToken cancellationToken)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var name = record.DisplayName;
        var rt = RuntimePaths(id);
        var pending = new List<string>();
        var notes = new List<string>();
        if (o.CpuCount is < 1 or > 255) throw new VzInvalidArgumentException("VzInvalidCpuCount", $"CpuCount must be 1-255; {o.CpuCount} was given.", name, "CpuCount");
        if (o.CpuUnits is < 8 or > 500000) throw new VzInvalidArgumentException("VzInvalidCpuUnits", "CpuUnits must be 8-500000.", name, "CpuUnits");
        if (o.CpuLimit is < 0) throw new VzInvalidArgumentException("VzInvalidCpuLimit", "CpuLimit must be 0 (no limit) or a positive percentage of one CPU.", name, "CpuLimit");
        if (o.MemGuaranteePercent is < -1 or > 100) throw new VzInvalidArgumentException("VzInvalidMemGuarantee", "MemGuarantee must be 0-100 or Auto.", name, "MemGuarantee");
        if (o.MemorySize is { } ms && (ms < MinMemorySize || ms % (1024 * 1024) != 0))
            throw new VzInvalidArgumentException("VzInvalidMemorySize", $"MemorySize must be a whole number of MiB, at least {MinMemorySize / (1024 * 1024)} MB.", name, "MemorySize");
        string? mask = null;
        if (o.CpuMask is { Length: > 0 } m) mask = CpuAffinity.Format(CpuAffinity.Parse(m, Environment.ProcessorCount, name));

        using var veLock = store.AcquireVeLock(id, cancellationToken);
        var current = VeConfigFile.Read(paths.VeConfigPath(id));
        var running = QemuProcess.Inspect(rt).Alive;
        long? dimmBytes = null;
        var dimmId = Guid.NewGuid().ToString("N")[..8];
        if (o.MemorySize is { } mem && mem != current.Memory.Size && running)
        {
            var vm = current.Vm!;
            var delta = mem - current.Memory.Size;
            if (vm.MemHotplug && delta > 0 && delta % DimmGranularity == 0 && mem <= vm.MaxMemorySize) dimmBytes = delta;
            else
            {
                pending.Add($"MemorySize={mem / (1024 * 1024)}MB");
                notes.Add(vm.MemHotplug
                    ? $"Memory grows live in steps of {DimmGranularity / (1024 * 1024)} MB up to {vm.MaxMemorySize / (1024 * 1024)} MB and shrinks only at the next start."
                    : "The VM has no memory hotplug (New-VzVm -MemHotplug): the new size applies at the next start.");
            }
        }
        if (dimmBytes is { } bytes)
        {
            await VmConnections.WithMonitorAsync(rt, name, async qmp =>
            {
                var n = dimmId;
                await qmp.ExecuteAsync("object-add", new JsonObject { ["qom-type"] = "memory-backend-ram", ["id"] = $"mem-{n}", ["size"] = bytes }, VmConnections.MonitorTimeout, cancellationToken);
                return await qmp.ExecuteAsync("device_add", new JsonObject { ["driver"] = "pc-dimm", ["id"] = $"dimm-{n}", ["memdev"] = $"mem-{n}" }, VmConnections.MonitorTimeout, cancellationToken);
            }, cancellationToken);
        }
        if (o.CpuCount is { } cc && cc != (current.Cpu.Count ?? 1) && running)
        {
            pending.Add($"CpuCount={cc}");
            notes.Add("vCPU hotplug is not done live: the new CPU count applies at the next start.");
        }
        var updated = store.UpdateLocked(veLock, id, c =>
        {
            var vm = c.Vm!;
            if (o.CpuCount is { } count)
            {
                if (running && count != (c.Cpu.Count ?? 1)) (vm.Pending ??= new()).CpuCount = count;
                else { c.Cpu.Count = count; if (vm.Pending is not null) vm.Pending.CpuCount = null; }
            }
            if (dimmBytes is { } added) vm.Dimms.Add(new VmDimm { Id = dimmId, Size = added });
            if (o.MemorySize is { } size && size != c.Memory.Size)
            {
                if (running && dimmBytes is null) (vm.Pending ??= new()).MemorySize = size;
                else { c.Memory.Size = size; if (vm.Pending is not null) vm.Pending.MemorySize = null; }
            }
            if (vm.Pending?.IsEmpty == true) vm.Pending = null;
            if (o.CpuMask is not null) c.Cpu.Mask = mask;
            if (o.CpuLimit is { } limit) c.Cpu.LimitPercent = limit == 0 ? null : limit;
            if (o.CpuUnits is { } units) c.Cpu.Units = units;
            if (o.MemGuaranteePercent is { } g) c.Memory.GuaranteePercent = g < 0 ? null : g;
            if (o.OnBoot is { } onBoot) c.OnBoot = onBoot;
            if (o.Description is not null) c.Description = o.Description;
        });
        if (running && (o.CpuLimit is not null || o.CpuUnits is not null || o.MemGuaranteePercent is not null || dimmBytes is not null))
            cgroups.Value.Apply(CgroupPath(id), LimitsFor(updated));
        if (running && o.CpuMask is not null)
            await PinVcpusAsync(rt, name, mask ?? CpuAffinity.Format(Enumerable.Range(0, Environment.ProcessorCount)), cancellationToken);
        return new VmSetResult(Describe(store.TryGet(id)!), pending, notes);
    }

    /// <summary>Pins every vCPU thread (thread ids from query-cpus-fast) to the host CPUs in <paramref name="mask"/>.</summary>
    private async Task PinVcpusAsync(VmRuntimePaths rt, string name, string mask, CancellationToken ct)
    {
        var cpus = CpuAffinity.Parse(mask, Environment.ProcessorCount, name);
        var threads = await VmConnections.WithMonitorAsync(rt, name, async qmp =>
        {
            var list = await qmp.ExecuteAsync("query-cpus-fast", null, VmConnections.MonitorTimeout, ct) as JsonArray ?? [];
            return list.Select(c => c?["thread-id"]?.GetValue<int>() ?? 0).Where(t => t > 0).ToList();
        }, ct);
        foreach (var tid in threads) CpuAffinity.SetThreadAffinity(tid, cpus);
        logger.LogInformation("Pinned {Count} vCPU threads of '{Name}' to CPUs {Mask}.", threads.Count, name, mask);
    }

    // ---- disks --------------------------------------------------------------------------------------------

    public async Task<VmDiskInfo> AddDiskAsync(Guid id, long size, string? existingPath, CancellationToken cancellationToken)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var name = record.DisplayName;
        if (existingPath is null && size <= 0)
            throw new VzInvalidArgumentException("VzInvalidDiskSize", "Give -Size for a new disk or -Path for an existing image.", name, "Size");
        RequireFile(existingPath, "Path", name);
        var rt = RuntimePaths(id);
        using var veLock = store.AcquireVeLock(id, cancellationToken);
        var config = VeConfigFile.Read(paths.VeConfigPath(id));
        var diskId = Enumerable.Range(0, 1000).Select(n => $"disk{n}").First(n => config.Vm!.Disks.All(d => d.Id != n));
        var disk = existingPath is null
            ? new VmDisk { Id = diskId, Path = $"{diskId}.qcow2", Format = "qcow2" }
            : new VmDisk { Id = diskId, Path = Path.GetFullPath(existingPath), Format = await FormatOfAsync(existingPath, cancellationToken) };
        var full = ResolvePath(id, disk.Path);
        if (existingPath is null)
        {
            if (File.Exists(full)) File.Delete(full); // a leftover from an interrupted add, not referenced by the config
            await images.CreateAsync(full, size, cancellationToken);
        }
        try
        {
            if (QemuProcess.Inspect(rt).Alive)
                await VmConnections.WithMonitorAsync(rt, name, qmp => VmHotplug.AddDiskAsync(qmp, disk.Id, full, disk.Format, config.Vm!.Machine, cancellationToken), cancellationToken);
            store.UpdateLocked(veLock, id, c => c.Vm!.Disks.Add(disk));
        }
        catch
        {
            if (existingPath is null) File.Delete(full);
            throw;
        }
        return DescribeDisk(config, disk);
    }

    public async Task RemoveDiskAsync(Guid id, string diskId, bool keepFile, CancellationToken cancellationToken)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var name = record.DisplayName;
        var rt = RuntimePaths(id);
        using var veLock = store.AcquireVeLock(id, cancellationToken);
        var config = VeConfigFile.Read(paths.VeConfigPath(id));
        var disk = config.Vm!.Disks.FirstOrDefault(d => string.Equals(d.Id, diskId, StringComparison.OrdinalIgnoreCase))
                   ?? throw new VzNotFoundException("VzVmDiskNotFound", $"The VM '{name}' has no disk '{diskId}'.", diskId)
                   { RecommendedAction = $"See its disks with (Get-VzVm '{name}').Disks." };
        if (QemuProcess.Inspect(rt).Alive)
            await VmConnections.WithMonitorAsync(rt, name, qmp => VmHotplug.RemoveDiskAsync(qmp, disk.Id, cancellationToken), cancellationToken);
        store.UpdateLocked(veLock, id, c => c.Vm!.Disks.RemoveAll(d => d.Id == disk.Id));
        var full = ResolvePath(id, disk.Path);
        if (!keepFile && full.StartsWith(record.Directory + "/", StringComparison.Ordinal)) File.Delete(full);
    }

    /// <summary>
    /// Resize-VzDisk on an image that a running VM has open: QMP block_resize, so the guest sees the new size at once.
    /// Online shrink is refused, as in Virtuozzo ("online shrink of a VM image is prohibited"). Returns false when no
    /// running VM has the image, and the disk service resizes it offline.
    /// </summary>
    public async Task<bool> TryResizeOnlineAsync(string path, long newSize, CancellationToken cancellationToken)
    {
        foreach (var record in store.List())
        {
            if (record.Config?.Vm is not { } vm) continue;
            var disk = vm.Disks.FirstOrDefault(d => string.Equals(ResolvePath(record.Id, d.Path), path, StringComparison.Ordinal));
            if (disk is null) continue;
            var rt = RuntimePaths(record.Id);
            if (!QemuProcess.Inspect(rt).Alive) return false;
            var (_, current, _) = await images.InfoAsync(path, cancellationToken);
            if (newSize < current)
                throw new VzInvalidStateException("VzDiskOnlineShrinkRefused",
                    $"The disk '{disk.Id}' of the running VM '{record.DisplayName}' cannot shrink while the VM runs.", path)
                { RecommendedAction = "Stop the VM, then shrink the disk with Resize-VzDisk -Shrink." };
            await VmConnections.WithMonitorAsync(rt, record.DisplayName, qmp => qmp.ExecuteAsync("block_resize",
                new JsonObject { ["node-name"] = disk.Id, ["size"] = newSize }, VmConnections.MonitorTimeout, cancellationToken), cancellationToken);
            logger.LogInformation("Resized disk '{Disk}' of running VM '{Name}' online to {Size} bytes.", disk.Id, record.DisplayName, newSize);
            return true;
        }
        return false;
    }

    public VmInfo AddDvdDrive(Guid id, string? isoPath, CancellationToken cancellationToken)
    {
        var (name, veLock) = StoppedForHardwareChange(id, cancellationToken);
        using (veLock)
        {
            RequireFile(isoPath, "Path", name);
            store.UpdateLocked(veLock, id, c =>
            {
                var drives = c.Vm!.DvdDrives;
                if (drives.Count >= (c.Vm.Machine == "pc" ? 2 : 6))
                    throw new VzInvalidArgumentException("VzTooManyDvdDrives", $"The VM '{name}' has no free IDE/SATA port for another DVD drive.", name, "Path");
                var dvdId = Enumerable.Range(0, 10).Select(n => $"cd{n}").First(n => drives.All(d => d.Id != n));
                drives.Add(new VmDvdDrive { Id = dvdId, IsoPath = isoPath is null ? null : Path.GetFullPath(isoPath) });
            });
        }
        return Describe(store.TryGet(id)!);
    }

    public VmInfo RemoveDvdDrive(Guid id, string dvdId, CancellationToken cancellationToken)
    {
        var (name, veLock) = StoppedForHardwareChange(id, cancellationToken);
        using (veLock)
        {
            store.UpdateLocked(veLock, id, c =>
            {
                if (c.Vm!.DvdDrives.RemoveAll(d => string.Equals(d.Id, dvdId, StringComparison.OrdinalIgnoreCase)) == 0)
                    throw new VzNotFoundException("VzVmDvdDriveNotFound", $"The VM '{name}' has no DVD drive '{dvdId}'.", dvdId);
            });
        }
        return Describe(store.TryGet(id)!);
    }

    private (string Name, FileLock Lock) StoppedForHardwareChange(Guid id, CancellationToken ct)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var veLock = store.AcquireVeLock(id, ct);
        if (QemuProcess.Inspect(RuntimePaths(id)).Alive)
        {
            veLock.Dispose();
            throw new VzInvalidStateException("VzVmRunning", $"DVD drives are IDE/SATA devices, which QEMU cannot hot-add or hot-remove; the VM '{record.DisplayName}' is running.", record.DisplayName)
            { RecommendedAction = "Stop the VM, change its drives, and start it again." };
        }
        return (record.DisplayName, veLock);
    }

    internal (VmRuntimePaths Paths, string Name) Running(Guid id)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var rt = RuntimePaths(id);
        VmConnections.RequireRunning(rt, record.DisplayName);
        return (rt, record.DisplayName);
    }

    private static VzNotFoundException NotFound(Guid id) =>
        new("VzVmNotFound", $"No VM with id {id} exists on this host.", id) { RecommendedAction = "Run Get-VzVm to see the VMs on this host." };
}
