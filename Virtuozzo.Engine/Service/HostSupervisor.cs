using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Memory.Balloon;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Service;

/// <summary>
/// What the host service does, apart from hosting: at start, the OnBoot VEs (once per boot); then a loop that
/// notices VEs that died, runs the memory manager and refreshes guest tools facts, and writes the status file;
/// at stop, AutoStop. Nothing here keeps state that matters across a restart: a killed service restarts from the
/// store, the run folders and QEMU itself.
/// </summary>
public sealed class HostSupervisor
{
    private readonly VzEngine engine;
    private readonly HostSupervisorOptions options;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly VmMemoryManager memory;
    private readonly GuestToolsRefresher guestTools;
    private readonly KsmAutoRunner ksm;
    private readonly Dictionary<Guid, VmLiveState> live = [];
    private readonly Dictionary<Guid, bool> wasRunning = [];
    private readonly HashSet<Guid> corruptReported = [];
    /// <summary>VMs (by QEMU pid) whose dead virtiofsd was journalled already.</summary>
    private readonly HashSet<(Guid, int)> shareDeathReported = [];
    private readonly Dictionary<Guid, (DateTimeOffset At, VmLiveState State)> written = [];
    /// <summary>
    /// The guest tools refresh in flight. It runs beside the loop, not in it: an agent busy with someone's command (or a
    /// loaded TCG guest) takes up to its timeout per call, and inline that stalled every memory pass for 3-14 s every
    /// 15 s (traced on 4 VMs at load 26), delaying reclaims and bursts' deflates alike.
    /// </summary>
    private Task<Dictionary<Guid, VmLiveState>>? guestToolsRun;
    private BalloonPolicySettings balloonSettings = new();
    private Ksm.KsmPolicyMode ksmPolicy = Ksm.KsmPolicyMode.Manual;
    private DateTimeOffset settingsReadAt = DateTimeOffset.MinValue;
    private long loops;
    private string phase = "Starting";

    public HostSupervisor(VzEngine engine, HostSupervisorOptions? options = null, TimeProvider? clock = null)
    {
        this.engine = engine;
        this.options = options ?? new HostSupervisorOptions();
        time = clock ?? TimeProvider.System;
        logger = engine.LoggerFactory.CreateLogger<HostSupervisor>();
        Paths = HostServicePaths.For(engine.Paths);
        Journal = new HostServiceJournal(Paths, logger, time);
        memory = new VmMemoryManager(Journal, this.options, logger, time);
        guestTools = new GuestToolsRefresher(engine.Vms.Guest, this.options, time);
        ksm = new KsmAutoRunner(engine.Ksm, Journal, time);
        StartedAt = time.GetUtcNow();
    }

    public HostServicePaths Paths { get; }
    public HostServiceJournal Journal { get; }
    public DateTimeOffset StartedAt { get; }

    /// <summary>Present in the run folder once OnBoot ran this boot: a restarted service does not start VEs a person stopped.</summary>
    private string OnBootDoneMarker => Path.Combine(Paths.Directory, "onboot-done");

    /// <summary>The OnBoot VEs, in order, each after its delay. Failures are recorded and the next VE goes on.</summary>
    public async Task StartOnBootAsync(CancellationToken cancellationToken)
    {
        phase = "Starting";
        WriteStatus();
        await BringNetworksUpAsync(cancellationToken);
        if (File.Exists(OnBootDoneMarker))
        {
            Journal.Record("OnBootSkipped", "host", "OnBoot already ran since the host booted (the service restarted).");
            return;
        }
        var configs = engine.Store.List().Where(r => r.State == VeRegistrationState.Ready && r.Config is not null).Select(r => r.Config!);
        foreach (var config in OnBootPlan.Order(configs))
        {
            if (config.BootDelay is > 0 and var delay)
            {
                logger.LogInformation("Waiting {Delay} s before starting '{Name}' (BootDelay).", delay, config.Name);
                await Task.Delay(TimeSpan.FromSeconds(delay), time, cancellationToken);
            }
            try
            {
                if (IsRunning(config)) continue;
                if (config.Type == VeType.VirtualMachine) await engine.Vms.StartAsync(config.Id, wait: false, TimeSpan.FromMinutes(5), null, cancellationToken);
                else await engine.Containers.StartAsync(config.Id, null, cancellationToken);
                Journal.Record("VeStarted", config.Name, $"OnBoot (BootOrder {config.BootOrder ?? 0}, BootDelay {config.BootDelay ?? 0} s)");
                wasRunning[config.Id] = true;
            }
            catch (Exception ex) when (ex is VzException or IOException)
            {
                Journal.Record("VeStartFailed", config.Name, $"OnBoot start failed: {ex.Message}", LogLevel.Error);
            }
            WriteStatus();
        }
        File.WriteAllText(OnBootDoneMarker, time.GetUtcNow().ToString("O"));
    }

    /// <summary>
    /// Virtual networks and the firewall table after a reboot: every service start (idempotent, a network already
    /// up is left alone), before any OnBoot VE, so no VE comes up on a missing bridge or unfiltered.
    /// </summary>
    private async Task BringNetworksUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            await engine.Networks.EnsureAllUpAsync(cancellationToken);
            await engine.Firewall.EnsureAsync(Guid.Empty, cancellationToken);
        }
        catch (Exception ex) when (ex is VzException or IOException)
        {
            Journal.Record("NetworksFailed", "host", $"Bringing the virtual networks up failed: {ex.Message}", LogLevel.Error);
        }
    }

    /// <summary>Loops until cancelled; every pass is bounded, and one failing pass never ends the loop.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        phase = "Running";
        try { await LoopAsync(cancellationToken); }
        finally { await memory.DisposeAsync(); }
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var passStart = time.GetUtcNow();
            try { await TickAsync(cancellationToken); }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { break; }
            catch (Exception ex) when (ex is VzException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                Journal.Record("LoopError", "host", ex.Message, LogLevel.Error);
            }
            if (!await DelayUntilAsync(passStart + options.LoopInterval, cancellationToken)) return;
        }
    }

    /// <summary>Waits until <paramref name="at"/> (no wait when it passed); false when cancelled.</summary>
    private async Task<bool> DelayUntilAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        var left = at - time.GetUtcNow();
        if (left <= TimeSpan.Zero) return !cancellationToken.IsCancellationRequested;
        try { await Task.Delay(left, time, cancellationToken); return true; }
        catch (OperationCanceledException) { return false; }
    }

    /// <summary>
    /// Writes the live caches Get-VzVm reads: at once when something a reader acts on changed (the balloon, the last
    /// decision, guest tools facts), otherwise every <see cref="LiveRewrite"/> so the cache stays fresh. Every write is
    /// an atomic file replace with an fsync: rewriting every VM's cache on every pass made them most of the service's CPU.
    /// </summary>
    private void WriteLiveStates(IEnumerable<(VeConfig Config, VmRuntimePaths Paths, int Pid)> vms)
    {
        var now = time.GetUtcNow();
        foreach (var (config, rt, pid) in vms)
        {
            if (!live.TryGetValue(config.Id, out var state) || state.ProcessId != pid || !Directory.Exists(rt.RunDirectory)) continue;
            if (written.TryGetValue(config.Id, out var last) && now - last.At < LiveRewrite && Material(last.State).Equals(Material(state))) continue;
            try
            {
                state.Write(rt);
                written[config.Id] = (now, state);
            }
            catch (IOException) { /* the VM stopped while we wrote: its run folder went */ }
        }
        foreach (var gone in written.Keys.Except(live.Keys).ToList()) written.Remove(gone);
    }

    /// <summary>How stale an unchanged live cache may get before it is written again (readers trust it for <see cref="VmLiveState.FreshFor"/>).</summary>
    private static readonly TimeSpan LiveRewrite = TimeSpan.FromSeconds(10);

    private static object Material(VmLiveState s) =>
        (s.ProcessId, s.BalloonActual, s.BalloonTarget, s.LastDecisionReason, s.LastDecisionAt, s.GuestToolsUpdatedAt, s.GuestToolsState);

    /// <summary>One pass: watch, memory manager, guest tools, status.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        var records = engine.Store.List();
        var runningVms = new List<(VeConfig Config, VmRuntimePaths Paths, int Pid)>();
        var mergeableInits = new List<int>(); // containers with MemMerge: their init (and all it starts) is mergeable
        foreach (var record in records)
        {
            if (record.Config is not { } config)
            {
                // A corrupt ve.yaml: nothing is decided for that VE (its QEMU, if any, keeps running untouched).
                if (record.State == VeRegistrationState.Corrupt && corruptReported.Add(record.Id))
                    Journal.Record("VeConfigCorrupt", record.DisplayName, record.Error?.Message ?? "its ve.yaml cannot be read; the service leaves it alone", LogLevel.Warning);
                continue;
            }
            corruptReported.Remove(record.Id);
            if (record.State != VeRegistrationState.Ready) continue;
            var (running, died, qemuPid) = Watch(config);
            if (running && config.Type == VeType.VirtualMachine)
            {
                var rt = engine.Vms.RuntimePaths(config.Id);
                if (qemuPid is { } pid)
                {
                    runningVms.Add((config, rt, pid));
                    // A share's virtiofsd that died leaves the VM running with a hung mount: journalled once per QEMU.
                    if (VmShareState.DeadDaemonReason(rt) is { } broken && shareDeathReported.Add((config.Id, pid)))
                        Journal.Record("SharedFolderDaemonDied", config.Name, broken, LogLevel.Warning);
                }
            }
            if (died is not null) Journal.Record("VeDied", config.Name, died, LogLevel.Warning);
            if (running && config.Container?.MemMerge == true && engine.Containers.Live(config.Id) is { Running: true, Pid: > 0 } ct) mergeableInits.Add(ct.Pid);
        }
        foreach (var gone in live.Keys.Except(runningVms.Select(v => v.Config.Id)).ToList()) live.Remove(gone);
        shareDeathReported.RemoveWhere(k => !runningVms.Any(v => v.Config.Id == k.Item1 && v.Pid == k.Item2));

        var settings = BalloonSettings();
        foreach (var (id, state) in await memory.TickAsync(runningVms, settings, live, cancellationToken)) live[id] = state;
        MergeGuestTools(runningVms);
        if (guestToolsRun is null)
        {
            var guestInput = runningVms.Select(v => (v.Config.Id, v.Pid, File.Exists(v.Paths.PausedMarker))).ToList();
            var snapshot = new Dictionary<Guid, VmLiveState>(live);
            guestToolsRun = Task.Run(() => guestTools.TickAsync(guestInput, snapshot, cancellationToken), cancellationToken);
        }
        ksm.Tick(ksmPolicy, runningVms.Select(v => v.Pid), runningVms.Where(v => v.Config.Vm?.MemMerge != false).Select(v => v.Pid).Concat(mergeableInits));
        WriteLiveStates(runningVms);
        loops++;
        WriteStatus();
    }

    /// <summary>
    /// Takes the finished guest tools refresh into the live states: only its own fields, onto the memory manager's
    /// newer figures, and only for the QEMU it asked (a VM restarted meanwhile keeps its fresh state).
    /// </summary>
    private void MergeGuestTools(List<(VeConfig Config, VmRuntimePaths Paths, int Pid)> runningVms)
    {
        if (guestToolsRun is not { IsCompleted: true } run) return;
        guestToolsRun = null;
        if (!run.IsCompletedSuccessfully)
        {
            if (run.Exception?.InnerException is { } ex and not OperationCanceledException)
                Journal.Record("LoopError", "host", $"Guest tools refresh failed: {ex.Message}", LogLevel.Error);
            return;
        }
        foreach (var (id, fresh) in run.Result)
        {
            if (!live.TryGetValue(id, out var current))
            {
                if (runningVms.Any(v => v.Config.Id == id && v.Pid == fresh.ProcessId)) live[id] = fresh;
                continue;
            }
            if (current.ProcessId != fresh.ProcessId) continue;
            live[id] = current with
            {
                GuestToolsState = fresh.GuestToolsState, GuestToolsUpdatedAt = fresh.GuestToolsUpdatedAt, OsName = fresh.OsName,
                OsVersion = fresh.OsVersion, KernelRelease = fresh.KernelRelease, IpAddresses = fresh.IpAddresses,
            };
        }
    }

    /// <summary>Compares with the last pass: a VE that ran and now does not, without being asked to stop, died.</summary>
    private (bool Running, string? Died, int? QemuPid) Watch(VeConfig config)
    {
        bool running;
        string? reason = null;
        int? qemuPid = null;
        if (config.Type == VeType.VirtualMachine)
        {
            var status = QemuProcess.Inspect(engine.Vms.RuntimePaths(config.Id));
            running = status.Alive;
            reason = status.DeadReason;
            qemuPid = status.Pid;
        }
        else
        {
            var (alive, _, runtime) = engine.Containers.Live(config.Id);
            running = alive;
            if (!alive && runtime is not null) reason = "its init exited without Stop-VzContainer (crashed or was killed).";
        }
        var before = wasRunning.TryGetValue(config.Id, out var r) && r;
        wasRunning[config.Id] = running;
        return (running, before && !running && reason is not null ? reason : null, qemuPid);
    }

    private bool IsRunning(VeConfig config) => config.Type == VeType.VirtualMachine
        ? QemuProcess.Inspect(engine.Vms.RuntimePaths(config.Id)).Alive
        : engine.Containers.Live(config.Id).Running;

    private BalloonPolicySettings BalloonSettings()
    {
        var now = time.GetUtcNow();
        if (now - settingsReadAt < TimeSpan.FromSeconds(5)) return balloonSettings;
        settingsReadAt = now;
        try
        {
            var host = HostSettingsCache.Load();
            balloonSettings = host.Balloon ?? new BalloonPolicySettings();
            ksmPolicy = host.KsmPolicy ?? Ksm.KsmPolicyMode.Manual;
        }
        catch (VzConfigCorruptException ex) { Journal.Record("HostConfigCorrupt", "host", $"{ex.Message}; keeping the last good balloon settings.", LogLevel.Warning); }
        return balloonSettings;
    }

    /// <summary>AutoStop: each running VE whose setting says so is shut down or suspended, one after another, each bounded.</summary>
    public async Task StopVesAsync(CancellationToken cancellationToken)
    {
        phase = "Stopping";
        WriteStatus();
        foreach (var record in engine.Store.List())
        {
            if (record.Config is not { AutoStop: { } mode and not VeAutoStop.None } config || !IsRunning(config)) continue;
            try
            {
                if (config.Type == VeType.VirtualMachine)
                {
                    if (mode == VeAutoStop.Suspend) await engine.Vms.SuspendAsync(config.Id, saveState: true, options.StopTimeout, cancellationToken);
                    else
                    {
                        try { await engine.Vms.StopAsync(config.Id, VmStopMode.Graceful, options.StopTimeout, null, cancellationToken); }
                        catch (VzTimeoutException) { await engine.Vms.StopAsync(config.Id, VmStopMode.Kill, options.StopTimeout, null, cancellationToken); }
                    }
                }
                else if (mode == VeAutoStop.Suspend) await engine.Containers.SuspendAsync(config.Id, cancellationToken);
                else await engine.Containers.StopAsync(config.Id, kill: false, options.StopTimeout, cancellationToken);
                wasRunning[config.Id] = false;
                Journal.Record(mode == VeAutoStop.Suspend ? "VeSuspended" : "VeStopped", config.Name, $"AutoStop {mode}");
            }
            catch (Exception ex) when (ex is VzException or IOException)
            {
                Journal.Record("VeStopFailed", config.Name, $"AutoStop {mode} failed: {ex.Message}", LogLevel.Error);
            }
        }
        // A clean stop ends this boot's OnBoot duty: the next start (by a person or systemd) starts OnBoot VEs again.
        File.Delete(OnBootDoneMarker);
        phase = "Stopped";
        WriteStatus();
    }

    public void WriteStatus()
    {
        try
        {
            HostServiceJson.Write(Paths.StatusFile, new HostServiceStatus
            {
                ProcessId = Environment.ProcessId,
                StartedAt = StartedAt,
                LastLoopAt = loops > 0 ? time.GetUtcNow() : null,
                LoopCount = loops,
                Phase = phase,
                DataRoot = engine.Paths.DataRoot,
                LastDecisions = Journal.Recent,
            });
        }
        catch (IOException ex) { logger.LogWarning("Cannot write {Path}: {Error}", Paths.StatusFile, ex.Message); }
    }
}
