using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Qemu.Agent;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Migration;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.SharedFolders;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Starting, stopping, restarting, pausing and saving VMs.</summary>
public sealed partial class VmService
{
    public async Task<VmInfo> StartAsync(Guid id, bool wait, TimeSpan timeout, IProgress<VzProgress>? progress, CancellationToken cancellationToken)
    {
        var rt = RuntimePaths(id);
        string name;
        int? launched = null;
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
                    if (!restore) { c.Vm!.Dimms.Clear(); c.Vm.BootMemorySize = null; foreach (var nic in c.NetworkAdapters ?? []) nic.HotplugPort = null; }
                    // Pending changes take effect now that QEMU starts afresh.
                    if (c.Vm?.Pending is { } p)
                    {
                        if (p.CpuCount is { } n) c.Cpu.Count = n;
                        if (p.MemorySize is { } m) c.Memory.MemorySize = m;
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
                if (BeforeNetwork is { } before && vm.NetworkMode == VmNetworkMode.Bridge) await before(id, vm.Bridge, cancellationToken);
                // Shared folders: checked again (the folder may have changed since it was added), then virtio-fs daemons first,
                // since QEMU connects to their sockets as it starts.
                SharedFolderRules.RecheckAll(config, paths.DataRoot);
                var shares = VmSharePlan.For(config, rt, File.Exists(VmSharePlan.VirtiofsdPath));
                rt.ValidateShareSockets(shares);
                var args = QemuCommandLine.Build(config, rt, caps.Accelerator, p => ResolvePath(id, p), restore ? rt.SavedState : null, shares);
                int pid;
                try
                {
                    await StartShareDaemonsAsync(rt, shares, name, cancellationToken);
                    // Not cancellable: killing the launcher half-way can leave a daemonized QEMU that nothing knows of. It
                    // takes a moment; a Ctrl+C meanwhile ends that QEMU right after, in the catch below.
                    pid = await process.StartAsync(rt, args, name, CancellationToken.None);
                }
                catch
                {
                    QemuProcess.CleanRunDirectory(rt); // ends the daemons already started
                    throw;
                }
                launched = pid;
                try
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    CgroupPlacement.Place(id, pid, config);
                    if (vm.NetworkMode == VmNetworkMode.Bridge && vm.Bridge is { } br)
                        await runner.RunAsync("ip", ["link", "set", "dev", QemuCommandLine.TapName(id), "master", br, "up"], new ProcessRunOptions { Target = name }, cancellationToken);
                    if (AttachAdapters is { } attach) await attach(config, cancellationToken);
                    if (config.Cpu.Mask is { Length: > 0 } mask) await PinVcpusAsync(rt, name, mask, cancellationToken);
                    if (restore) await FinishRestoreAsync(rt, name, cancellationToken);
                }
                catch
                {
                    await QemuProcess.KillAsync(pid, name, CancellationToken.None);
                    QemuProcess.CleanRunDirectory(rt);
                    CgroupPlacement.Delete(id);
                    throw;
                }
            }
        }
        if (wait)
        {
            try { await WaitForAgentAsync(rt, name, timeout, progress, cancellationToken); }
            catch (OperationCanceledException) when (launched is { } pid && cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C during the wait cancels the start this call made: the VM is as it was, stopped. (A timeout
                // leaves it running, as its error says: the guest may just be slow.)
                await UndoStartAsync(id, rt, pid, name);
                throw;
            }
        }
        progress?.Report(new VzProgress($"Starting VM '{name}'", "Running", 100) { Completed = true });
        return Describe(store.TryGet(id) ?? throw NotFound(id));
    }

    /// <summary>Starts one virtiofsd per virtio-fs share and records what QEMU gets (VmShareState).</summary>
    private async Task StartShareDaemonsAsync(VmRuntimePaths rt, IReadOnlyList<Qemu.CommandLine.VmShareDevice> shares, string name, CancellationToken ct)
    {
        if (shares.Count == 0) return;
        Directory.CreateDirectory(rt.RunDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var share in shares.Where(s => s.Transport == SharedFolderTransport.VirtioFs))
        {
            var daemon = await VirtioFsDaemon.StartAsync(runner, rt, share, name, ct);
            logger.LogInformation("Started virtiofsd (pid {Pid}) for shared folder '{Share}' of '{Name}' ({Path}).", daemon, share.Tag, name, share.HostPath);
        }
        VmShareState.Write(rt, shares);
    }

    /// <summary>Ends a QEMU this start launched, when the start is cancelled after it; bounded, and not cancellable itself.</summary>
    private async Task UndoStartAsync(Guid id, VmRuntimePaths rt, int pid, string name)
    {
        using (store.AcquireVeLock(id, CancellationToken.None))
        {
            if (QemuProcess.Inspect(rt) is not { Alive: true, Pid: { } current } || current != pid) return; // someone else acted on it meanwhile
            File.WriteAllText(rt.StoppingMarker, "cancelled start");
            await QemuProcess.TerminateAsync(pid, name, CancellationToken.None);
            QemuProcess.CleanRunDirectory(rt);
            CgroupPlacement.Delete(id);
        }
        logger.LogInformation("Start of '{Name}' cancelled; QEMU (pid {Pid}) ended.", name, pid);
    }

    /// <summary>Waits for QEMU to load the saved state, lets the vCPUs run, and deletes the state file.</summary>
    private async Task FinishRestoreAsync(VmRuntimePaths rt, string name, CancellationToken ct)
    {
        await using (var monitor = await OpenMonitorAsync(rt, name, ct))
            await VmStateFile.ResumeLoadedAsync(monitor, name, ct);
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
                await using (await OpenAgentAsync(rt, name, TimeSpan.FromSeconds(Math.Min(3, left.TotalSeconds)), ct)) { }
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
                CgroupPlacement.Delete(id);
                return Describe(store.TryGet(id)!);
            }
            var pid = status.Pid!.Value;
            var deadline = DateTime.UtcNow + timeout;
            File.WriteAllText(rt.StoppingMarker, mode.ToString());
            progress?.Report(new VzProgress($"Stopping VM '{name}'", mode == VmStopMode.Kill ? "Terminating QEMU" : "Asking the guest to shut down", 10));
            if (mode == VmStopMode.Kill)
            {
                await QemuProcess.TerminateAsync(pid, name, cancellationToken);
            }
            else
            {
                var asked = false;
                // The agent only gets a try when the guest holds its channel open; otherwise a guest-sync would
                // spend seconds of -Timeout on nothing.
                if (mode == VmStopMode.Graceful && !File.Exists(rt.PausedMarker) && await AgentChannel.IsOpenAsync(rt, name, cancellationToken) != false)
                {
                    try
                    {
                        var agentWait = TimeSpan.FromSeconds(Math.Clamp((deadline - DateTime.UtcNow).TotalSeconds / 2, 0.1, 3));
                        await using (var agent = await OpenAgentAsync(rt, name, agentWait, cancellationToken))
                            await agent.GuestShutdownAsync(TimeSpan.FromSeconds(3), cancellationToken);
                        asked = true;
                        logger.LogInformation("Asked the guest agent of '{Name}' to power off.", name);
                    }
                    catch (VzException ex) { logger.LogInformation("The guest agent of '{Name}' did not take the shutdown ({Error}); pressing the ACPI power button.", name, ex.Message); }
                }
                if (!asked)
                {
                    await using var monitor = await OpenMonitorAsync(rt, name, cancellationToken);
                    if (File.Exists(rt.PausedMarker)) await monitor.ContAsync(cancellationToken);
                    await monitor.SystemPowerdownAsync(cancellationToken);
                }
                progress?.Report(new VzProgress($"Stopping VM '{name}'", "Waiting for the guest to power off", 50));
                // A guest that already let a whole stop time out (no OS, or one that ignores ACPI and has no agent)
                // is asked again, but not waited on for another full default minute.
                var ignoredBefore = ShutdownIgnored.WasIgnored(rt, pid);
                var wait = deadline - DateTime.UtcNow;
                if (ignoredBefore && wait > ShutdownIgnored.RetryWait) wait = ShutdownIgnored.RetryWait;
                // The guest powers off on its own: waiting costs the host nothing, so it holds no throttle slot.
                if (!await Concurrency.WorkThrottle.IdleAsync(() => QemuProcess.WaitForExitAsync(pid, wait > TimeSpan.Zero ? wait : TimeSpan.Zero, cancellationToken)))
                {
                    File.Delete(rt.StoppingMarker);
                    ShutdownIgnored.Record(rt, pid);
                    throw new VzTimeoutException("VzVmStopTimeout", ignoredBefore
                        ? $"The VM '{name}' ignored the shutdown request again (it ignored an earlier one too): its guest does not act on shutdown requests."
                        : $"The VM '{name}' did not power off within {timeout.TotalSeconds:0} s.", name, timeout)
                    { RecommendedAction = $"The guest may not handle shutdown requests (no OS, no ACPI, no guest agent): Stop-VzVm -Name '{name}' -Kill powers it off at once." };
                }
            }
            QemuProcess.CleanRunDirectory(rt);
            CgroupPlacement.Delete(id);
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
            RefuseWithVirtioFs(rt, name, "VzSaveStateBlockedBySharedFolder", "save the state of");
            using (store.AcquireVeLock(id, cancellationToken))
            {
                var pid = QemuProcess.Inspect(rt).Pid!.Value;
                await using (var monitor = await OpenMonitorAsync(rt, name, cancellationToken))
                {
                    await VmStateFile.SaveAsync(monitor, rt.SavedState, timeout, name, cancellationToken);
                    File.WriteAllText(rt.StoppingMarker, "save");
                    await monitor.QuitAsync(cancellationToken);
                }
                if (!await QemuProcess.WaitForExitAsync(pid, TimeSpan.FromSeconds(30), cancellationToken))
                    await QemuProcess.KillAsync(pid, name, cancellationToken);
                QemuProcess.CleanRunDirectory(rt);
                CgroupPlacement.Delete(id);
                logger.LogInformation("Saved the state of '{Name}' to {Path}.", name, rt.SavedState);
            }
            return Describe(store.TryGet(id)!);
        }
        await using (var monitor = await OpenMonitorAsync(rt, name, cancellationToken))
            await monitor.StopAsync(cancellationToken);
        File.WriteAllText(rt.PausedMarker, "");
        return Describe(store.TryGet(id)!);
    }

    public async Task<VmInfo> ResumeAsync(Guid id, CancellationToken cancellationToken)
    {
        if (File.Exists(RuntimePaths(id).SavedState) && !QemuProcess.Inspect(RuntimePaths(id)).Alive)
            return await StartAsync(id, wait: false, TimeSpan.FromSeconds(60), null, cancellationToken);
        var (rt, name) = Running(id);
        await using (var monitor = await OpenMonitorAsync(rt, name, cancellationToken))
            await monitor.ContAsync(cancellationToken);
        File.Delete(rt.PausedMarker);
        return Describe(store.TryGet(id)!);
    }
}
