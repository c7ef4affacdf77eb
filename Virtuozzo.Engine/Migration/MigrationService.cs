using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Diagnostics;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Migration;

/// <summary>
/// Moving VEs to another host over SSH, libvirt's phases in small: check (source and destination), prepare on the
/// destination (register with the same id; for a live VM a paused incoming QEMU whose disks are NBD exports), copy
/// (live: write-blocking disk mirrors and the RAM stream through forwarded unix sockets; offline: a tar of the VE's
/// folder), confirm on the destination, and only then remove the source. Any failure before the destination confirmed
/// rolls back: the source runs on (resumed if the stream had paused it) and the destination's agent removes all it made.
/// </summary>
public sealed class MigrationService(VzEngine engine, ILogger logger)
{
    /// <summary>
    /// The downtime limit QEMU aims at; never raised (a busy guest converges through auto-converge instead). Below
    /// QEMU's default of 300 ms because QEMU's estimate of the switchover runs over: with 300 ms, 20 idle moves of the
    /// test guest measured up to 349 ms (bench, 2026-12-01). 200 ms keeps the measured pause within 300 ms.
    /// </summary>
    public const long DowntimeLimitMs = 200;

    /// <summary>QEMU's default cap is 128 MiB/s; the SSH tunnel is the real limit, so the cap is lifted as Proxmox does.</summary>
    public const long MaxBandwidth = 4L << 30;

    /// <summary>The agent command on the destination (dotnet and the host service dll, at the same path as here).</summary>
    public IReadOnlyList<string> AgentCommand { get; set; } = [];

    /// <summary>Called with the ssh tunnel's pid once it is up (fault-injection tests cut it).</summary>
    public Action<int>? TunnelStarted { get; set; }

    private RemoteAgent Agent(MigrationDestination destination)
    {
        if (AgentCommand.Count == 0)
            throw new VzCapabilityMissingException("VzHostServiceMissing", "The migration agent (the host service executable) is not known to this session.", destination.HostName, "Virtuozzo.HostService");
        return new RemoteAgent(new SshTransport(destination), AgentCommand);
    }

    // ---- checks ------------------------------------------------------------------------------------------------

    /// <summary>Test-VzMigration: every incompatibility found, no side effects on either host.</summary>
    public async Task<MigrationReport> TestAsync(Guid id, MigrationDestination destination, bool offline, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var record = engine.Store.TryGet(id) ?? throw new VzNotFoundException("VzVeNotFound", $"No VE with id {id} exists on this host.", id);
        var (config, mode, found, sourceQemu) = await SourceSideAsync(record, offline, ct);
        AgentProbeReply? reply = null;
        try { reply = await Agent(destination).CallAsync<AgentProbeReply>("probe", [], await ProbeRequestAsync(config, mode, sourceQemu, ct), ProbeTimeout, ct); }
        catch (VzUnavailableException ex) { found.Add(new(ex.ErrorId, ex.Message, destination.HostName, MigrationSide.Connection)); }
        catch (VzExternalToolException ex) { found.Add(new("VzMigrationAgentFailed", ex.Message, destination.HostName, MigrationSide.Connection)); }
        if (reply is not null) found.AddRange(reply.Incompatibilities);
        return new MigrationReport
        {
            Name = config.Name, Id = config.Id, Type = config.Type, DestinationHost = destination.ToString(), Mode = mode,
            Incompatibilities = found, SourceQemuVersion = sourceQemu, DestinationQemuVersion = reply?.QemuVersion,
            DestinationDataRoot = reply?.DataRoot, DestinationFreeBytes = reply?.FreeBytes ?? 0, Duration = watch.Elapsed,
        };
    }

    private async Task<(VeConfig Config, MigrationMode Mode, List<MigrationIncompatibility> Found, string? QemuVersion)> SourceSideAsync(VeRecord record, bool offline, CancellationToken ct)
    {
        var config = record.Config ?? throw new VzInvalidStateException("VzMigrationTransitionalState", $"The VE {record.Id} cannot be read ({record.Error?.Message}).", record.Id);
        string state;
        MigrationProgress? qemu = null;
        IReadOnlyList<BlockJobInfo> jobs = [];
        string? version = null;
        if (config.Type == VeType.VirtualMachine)
        {
            var info = engine.Vms.Describe(record);
            state = record.State != VeRegistrationState.Ready ? record.State.ToString() : info.State;
            if (info.StateValue == VmState.Running)
            {
                await using var monitor = await QemuMonitor.OpenAsync(engine.Vms.RuntimePaths(record.Id), config.Name, ct);
                qemu = await monitor.QueryMigrationProgressAsync(ct);
                jobs = await monitor.QueryBlockJobsAsync(ct);
                version = monitor.QemuVersion;
            }
        }
        else state = record.State != VeRegistrationState.Ready ? record.State.ToString() : engine.Containers.Describe(record).State;
        var mode = offline || state != "Running" || config.Type == VeType.Container ? MigrationMode.Offline : MigrationMode.Live;
        var facts = new MigrationChecks.SourceFacts(config, mode, state, qemu, jobs, p => engine.Vms.ResolvePath(config.Id, p), record.Directory)
        {
            SharedFolderBlocker = config.Type == VeType.VirtualMachine ? engine.Vms.SharedFolderMigrationBlocker(config.Id) : null,
        };
        return (config, mode, [.. MigrationChecks.Source(facts)], version);
    }

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(60);

    private async Task<AgentProbeRequest> ProbeRequestAsync(VeConfig config, MigrationMode mode, string? sourceQemu, CancellationToken ct)
    {
        var caps = await engine.Host.GetAsync(false, ct);
        return new AgentProbeRequest
        {
            ConfigYaml = Yaml.Serializer.Serialize(config), Mode = mode, RequiredBytes = DirectoryBytes(engine.Paths.VeDirectory(config.Id)),
            SourceQemuVersion = sourceQemu ?? caps.QemuVersion, SourceAccelerator = caps.Accelerator.ToString(), SourceIdentity = HostIdentity.Of(engine.Paths),
        };
    }

    /// <summary>Bytes under a folder (apparent sizes: a sparse file may need less, never more).</summary>
    private static long DirectoryBytes(string dir) =>
        new DirectoryInfo(dir).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true }).Sum(f => f.Length);

    /// <summary>Refuses with the first incompatibility as a typed error (all of them in the message).</summary>
    private static void ThrowIfIncompatible(string name, IReadOnlyList<MigrationIncompatibility> found)
    {
        if (found.Count == 0) return;
        var first = found[0];
        var message = found.Count == 1 ? first.Message : $"{first.Message} (and {found.Count - 1} more: {string.Join("; ", found.Skip(1).Select(f => f.MessageId))})";
        const string action = "Run Test-VzMigration for the full report, fix what it lists, and try again. Nothing was changed.";
        throw first.MessageId switch
        {
            "VzMigrationNameInUse" or "VzMigrationIdInUse" => new VzAlreadyExistsException(first.MessageId, message, first.Source) { RecommendedAction = action },
            "VzMigrationGuaranteeUnavailable" or "VzMigrationDiskSpace" => new VzInsufficientResourcesException(first.MessageId, message, first.Source) { RecommendedAction = action },
            "VzMigrationSameHost" => new VzInvalidArgumentException(first.MessageId, message, first.Source, "DestinationHost") { RecommendedAction = action },
            "VzMigrationHostUnreachable" or "VzMigrationHostKeyUntrusted" or "VzMigrationAuthenticationFailed" => new VzUnavailableException(first.MessageId, message, first.Source) { RecommendedAction = action },
            _ => new VzInvalidStateException(first.MessageId, message, first.Source) { RecommendedAction = action },
        };
    }

    // ---- VMs ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// Move-VzVm: live when the VM runs (unless <paramref name="offline"/>), offline when it is stopped. A live move
    /// with no progress for <paramref name="stallTimeout"/> (default <see cref="MigrationStallWatch.DefaultTimeout"/>)
    /// is cancelled and rolled back.
    /// </summary>
    public async Task<MigrationResult> MoveVmAsync(Guid id, MigrationDestination destination, bool offline, IProgress<VzProgress>? progress, CancellationToken ct, TimeSpan? stallTimeout = null)
    {
        var trace = new PhaseTrace();
        var record = engine.Store.TryGet(id) ?? throw new VzNotFoundException("VzVmNotFound", $"No VM with id {id} exists on this host.", id);
        var activity = $"Moving VM '{record.DisplayName}' to {destination}";
        progress?.Report(new VzProgress(activity, "Checking both hosts", 0));
        var agent = Agent(destination);
        // The destination's agent starts first, so its ssh handshake and start-up overlap the checks here.
        await using var session = agent.OpenSession();
        var (config, mode, found, sourceQemu) = await SourceSideAsync(record, offline, ct);
        trace.Mark("source checks");
        var probe = await session.CallAsync<AgentProbeReply>("probe", [], await ProbeRequestAsync(config, mode, sourceQemu, ct), ProbeTimeout, ct);
        trace.Mark("destination checks");
        found.AddRange(probe.Incompatibilities);
        ThrowIfIncompatible(config.Name, found);
        return mode == MigrationMode.Live
            ? await MoveVmLiveAsync(config, agent, session, IncomingSockets(probe, config.Name), destination, activity, trace, new MigrationStallWatch(stallTimeout ?? MigrationStallWatch.DefaultTimeout, config.Name), progress, ct)
            : await MoveOfflineAsync(config, agent, session, destination, activity, trace, progress, ct);
    }

    private async Task<MigrationResult> MoveVmLiveAsync(VeConfig config, RemoteAgent agent, AgentSession session, (string Nbd, string Migration) sockets, MigrationDestination destination, string activity, PhaseTrace trace, MigrationStallWatch stall, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        var id = config.Id;
        var rt = engine.Vms.RuntimePaths(id);
        var disks = config.Vm!.Disks;
        var sizes = new Dictionary<string, long>();
        foreach (var d in disks) sizes[d.Id] = await VirtualSizeAsync(engine.Vms.ResolvePath(id, d.Path), ct);
        MigrationProgress? done = null;
        using (var veLock = engine.Store.AcquireVeLock(id, ct))
        {
            File.WriteAllText(rt.MigratingMarker, destination.ToString());
            var localNbd = Path.Combine(rt.RunDirectory, "mig-nbd.sock");
            var localRam = Path.Combine(rt.RunDirectory, "mig-ram.sock");
            SocketForward? tunnel = null;
            QemuMonitor? monitor = null;
            var prepared = false;
            var commitSent = false;
            try
            {
                progress?.Report(new VzProgress(activity, "Starting the incoming VM on the destination", 2));
                // The tunnel's ssh connects while the destination starts its QEMU: the probe said where the incoming
                // VM's sockets will be, and a forward to a socket that does not exist yet is fine until it is used.
                var tunnelUp = SocketForward.StartAsync(agent.Ssh, [(localNbd, sockets.Nbd), (localRam, sockets.Migration)], ct);
                try
                {
                    var ready = await session.CallAsync<AgentPrepareReply>("prepare", [], new AgentPrepareRequest
                    {
                        ConfigYaml = Yaml.Serializer.Serialize(config), Mode = MigrationMode.Live, DiskSizes = sizes,
                    }, TimeSpan.FromSeconds(120), ct);
                    prepared = true;
                    if (ready.NbdSocket != sockets.Nbd || ready.MigrationSocket != sockets.Migration)
                        throw new VzInvalidStateException("VzMigrationAgentFailed", $"The destination prepared the incoming VM at other sockets than it announced ({ready.NbdSocket}, {ready.MigrationSocket}).", config.Name);
                    trace.Mark("incoming VM");
                }
                finally
                {
                    // Whatever the prepare did, the tunnel is owned from here on (the roll-back below disposes it).
                    try { tunnel = await tunnelUp; }
                    catch (Exception) when (!prepared) { /* the prepare's own error is the one that counts */ }
                }
                var forward = tunnel!; // set whenever the prepare succeeded: a failed tunnel was thrown above
                TunnelStarted?.Invoke(forward.ProcessId);
                trace.Mark("tunnel");
                monitor = await QemuMonitor.OpenAsync(rt, config.Name, ct);
                foreach (var d in disks)
                {
                    await monitor.BlockdevAddAsync(new JsonObject
                    {
                        ["driver"] = "nbd", ["node-name"] = MirrorNode(d.Id), ["export"] = d.Id,
                        ["server"] = new JsonObject { ["type"] = "unix", ["path"] = localNbd },
                    }, ct);
                    await monitor.BlockdevMirrorAsync(MirrorNode(d.Id), d.Id, MirrorNode(d.Id), ct);
                }
                await WaitMirrorsReadyAsync(monitor, disks.Select(d => MirrorNode(d.Id)).ToHashSet(), forward, stall, activity, progress, ct);
                trace.Mark("disk copy");
                await monitor.MigrateSetCapabilitiesAsync(new Dictionary<string, bool> { ["auto-converge"] = true }, ct);
                await monitor.MigrateSetParametersAsync(DowntimeLimitMs, MaxBandwidth, ct);
                await monitor.MigrateAsync("unix:" + localRam, ct);
                done = await WaitMigrationAsync(monitor, config.Name, stall, activity, progress, ct);
                trace.Mark("memory copy");
                // The source is paused now: finish the mirrors (already in sync, write-blocking) and let the destination run.
                foreach (var d in disks) await monitor.BlockJobCancelAsync(MirrorNode(d.Id), false, ct);
                await WaitJobsGoneAsync(monitor, disks.Select(d => MirrorNode(d.Id)).ToHashSet(), TimeSpan.FromSeconds(60), ct);
                foreach (var d in disks) await monitor.BlockdevDelAsync(MirrorNode(d.Id), ct);
                trace.Mark("mirrors finished");
                progress?.Report(new VzProgress(activity, "Switching over to the destination", 97));
                commitSent = true;
                await session.CallAsync<System.Text.Json.JsonElement>("commit", [id.ToString("D")], null, TimeSpan.FromSeconds(120), ct);
                trace.Mark("commit");
            }
            catch (Exception ex)
            {
                // The tunnel goes first: QEMU's cancel of a stream or mirror blocked on a stalled socket waits until
                // the socket fails, and once the commit went through the destination no longer needs it.
                if (tunnel is not null) { await tunnel.DisposeAsync(); tunnel = null; }
                var targetOwns = await RollBackLiveAsync(config, agent, monitor, disks.Select(d => MirrorNode(d.Id)).ToList(), prepared, commitSent, ex);
                if (!targetOwns)
                {
                    if (monitor is not null) await monitor.DisposeAsync();
                    File.Delete(rt.MigratingMarker);
                    throw;
                }
            }
            if (monitor is not null) await monitor.DisposeAsync();
            if (tunnel is not null) await tunnel.DisposeAsync();
            await engine.Vms.ReleaseMigratedAsync(id, CancellationToken.None);
        }
        engine.Store.Remove(id, CancellationToken.None);
        trace.Mark("source released");
        logger.LogInformation("VM '{Name}' moved live to {Destination} (downtime {Downtime} ms).", config.Name, destination, done?.DowntimeMs);
        logger.LogDebug("Move of {Name}: {Phases} ms; {Total:0.0} ms in all.", config.Name, trace.Summary, trace.Elapsed.TotalMilliseconds);
        progress?.Report(new VzProgress(activity, "Running on the destination", 100) { Completed = true });
        return new MigrationResult
        {
            Name = config.Name, Id = id, Type = VeType.VirtualMachine, DestinationHost = destination.ToString(), Mode = MigrationMode.Live,
            Running = true, TotalTime = trace.Elapsed, Downtime = done?.DowntimeMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
            RamTransferredBytes = done?.RamTransferred ?? 0, DiskTransferredBytes = sizes.Values.Sum(),
            DestinationDirectory = "", Phases = trace.Phases,
        };
    }

    private static (string Nbd, string Migration) IncomingSockets(AgentProbeReply probe, string name) =>
        probe is { IncomingNbdSocket: { Length: > 0 } nbd, IncomingMigrationSocket: { Length: > 0 } ram }
            ? (nbd, ram)
            : throw new VzInvalidStateException("VzMigrationAgentFailed", "The destination's agent did not say where the incoming VM will listen (is the module the same version on both hosts?).", name);

    private static string MirrorNode(string diskId) => "mig-" + diskId;

    /// <summary>
    /// Undoes a failed live move: cancel the stream and the mirrors, drop the NBD nodes, let the source's vCPUs run
    /// again, and have the destination remove what it made. Returns true in the one case where the destination
    /// already runs the VM (the commit went through but its answer was lost): then the source must not resume.
    /// Before a commit was sent the destination cannot own the VM, so the source resumes first (a cut network may
    /// keep the destination unreachable for a while) and the destination is cleaned after.
    /// </summary>
    private async Task<bool> RollBackLiveAsync(VeConfig config, RemoteAgent agent, QemuMonitor? monitor, IReadOnlyList<string> mirrors, bool prepared, bool commitSent, Exception cause)
    {
        logger.LogWarning("Moving '{Name}' failed ({Error}); rolling back.", config.Name, cause.Message);
        if (prepared && commitSent)
        {
            if (await AbortOnDestinationAsync(agent, config)) return true;
        }
        await ResumeOnSourceAsync(config, monitor, mirrors);
        if (prepared && !commitSent) await AbortOnDestinationAsync(agent, config);
        return false;
    }

    /// <summary>Cancels the stream and the mirrors on the source and lets its vCPUs run again.</summary>
    private async Task ResumeOnSourceAsync(VeConfig config, QemuMonitor? monitor, IReadOnlyList<string> mirrors)
    {
        var rt = engine.Vms.RuntimePaths(config.Id);
        if (!QemuProcess.Inspect(rt).Alive) return;
        try
        {
            var m = monitor ?? await QemuMonitor.OpenAsync(rt, config.Name, CancellationToken.None);
            try
            {
                var st = await m.QueryMigrationProgressAsync(CancellationToken.None);
                if (st.Status is "active" or "setup" or "pre-switchover" or "device") await m.MigrateCancelAsync(CancellationToken.None);
                var jobs = await m.QueryBlockJobsAsync(CancellationToken.None);
                foreach (var j in jobs.Where(j => mirrors.Contains(j.Device))) await m.BlockJobCancelAsync(j.Device, true, CancellationToken.None);
                await WaitJobsGoneAsync(m, mirrors.ToHashSet(), TimeSpan.FromSeconds(30), CancellationToken.None);
                foreach (var node in mirrors)
                {
                    try { await m.BlockdevDelAsync(node, CancellationToken.None); } catch (VzException) { /* never added */ }
                }
                // A stream that got as far as the switchover left the source paused (postmigrate): run it again.
                for (var i = 0; i < 50; i++)
                {
                    var s = await m.QueryStatusAsync(CancellationToken.None);
                    if (s is "postmigrate" or "paused" or "finish-migrate") { if (!File.Exists(rt.PausedMarker)) await m.ContAsync(CancellationToken.None); break; }
                    if (s == "running") break;
                    await Task.Delay(100);
                }
            }
            finally { if (monitor is null) await m.DisposeAsync(); }
        }
        catch (VzException ex) { logger.LogError("Resuming '{Name}' on the source after the failed move failed: {Error}", config.Name, ex.Message); }
    }

    /// <summary>
    /// Has the destination remove what it made, retried a few times (a loaded or briefly cut network); returns true
    /// when the destination says the VE is no longer an unfinished incoming one, i.e. it already committed and owns it.
    /// A copy it never hears about is replaced by the next attempt's prepare.
    /// </summary>
    private async Task<bool> AbortOnDestinationAsync(RemoteAgent agent, VeConfig config)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await agent.CallAsync<System.Text.Json.JsonElement>("abort", [config.Id.ToString("D")], null, TimeSpan.FromSeconds(60), CancellationToken.None);
                return false;
            }
            catch (VzInvalidStateException ex) when (ex.ErrorId == "VzMigrationNotIncoming") { return true; }
            catch (VzException ex) when (attempt < 4)
            {
                logger.LogWarning("Cleaning up '{Name}' on the destination failed ({Error}); trying again.", config.Name, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2 * attempt));
            }
            catch (VzException ex)
            {
                logger.LogError("The destination could not clean up after '{Name}': {Error}. The next move of it there replaces the leftover.", config.Name, ex.Message);
                return false;
            }
        }
    }

    private static async Task WaitMirrorsReadyAsync(QemuMonitor monitor, HashSet<string> jobs, SocketForward tunnel, MigrationStallWatch stall, string activity, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        while (true)
        {
            var all = (await monitor.QueryBlockJobsAsync(ct)).Where(j => jobs.Contains(j.Device)).ToList();
            if (all.Count < jobs.Count)
                throw new VzInvalidStateException("VzMigrationDiskMirrorFailed", "A disk mirror to the destination ended before it was in sync (the tunnel or the destination went away).", activity);
            if (all.All(j => j.Ready)) return;
            if (tunnel.HasExited)
                throw new VzUnavailableException("VzMigrationTunnelLost", "The SSH tunnel to the destination ended during the disk copy.", activity);
            var len = all.Sum(j => j.Length);
            var off = all.Sum(j => j.Offset);
            stall.Observe("disk copy", off);
            progress?.Report(new VzProgress(activity, $"Copying disks: {off >> 20} of {len >> 20} MiB", len > 0 ? (int)(5 + 35 * off / len) : 5));
            await Task.Delay(200, ct);
        }
    }

    private static async Task<MigrationProgress> WaitMigrationAsync(QemuMonitor monitor, string name, MigrationStallWatch stall, string activity, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        while (true)
        {
            var st = await monitor.QueryMigrationProgressAsync(ct);
            switch (st.Status)
            {
                case "completed": return st;
                case "failed" or "cancelled":
                    throw new VzInvalidStateException("VzMigrationFailed", $"QEMU's migration of '{name}' {st.Status}: {st.ErrorDescription ?? "no reason given"}.", name);
            }
            stall.Observe("memory copy", st.RamTransferred);
            // How far the RAM copy got: the share of guest RAM not (or no longer) waiting to be sent. Bytes sent would
            // not do: zero pages travel as a few bytes each, so an idle guest "sends" a fraction of its RAM.
            var copied = st.RamTotal > 0 ? Math.Clamp((double)(st.RamTotal - st.RamRemaining) / st.RamTotal, 0, 1) : 0;
            progress?.Report(new VzProgress(activity,
                $"Memory: {copied * 100:0} % copied, {st.RamTransferred >> 20} MiB sent, {st.RamRemaining >> 20} MiB dirty remaining, expected downtime {st.ExpectedDowntimeMs ?? 0} ms" +
                (st.CpuThrottlePercent is > 0 ? $", vCPUs throttled {st.CpuThrottlePercent} %" : ""), (int)(40 + 55 * copied)));
            await Task.Delay(st.RamRemaining < 64L << 20 ? 50 : 200, ct);
        }
    }

    private static async Task WaitJobsGoneAsync(QemuMonitor monitor, HashSet<string> jobs, TimeSpan timeout, CancellationToken ct)
    {
        var end = DateTime.UtcNow + timeout;
        while ((await monitor.QueryBlockJobsAsync(ct)).Any(j => jobs.Contains(j.Device)))
        {
            if (DateTime.UtcNow > end) throw new VzTimeoutException("VzMigrationMirrorStuck", "The disk mirrors did not finish.", string.Join(",", jobs), timeout);
            await Task.Delay(50, ct);
        }
    }

    private async Task<long> VirtualSizeAsync(string path, CancellationToken ct)
    {
        var r = await engine.Runner.RunAsync("qemu-img", ["info", "-U", "--output=json", path], new Processes.ProcessRunOptions { Target = path }, ct);
        return JsonNode.Parse(r.StandardOutput)?["virtual-size"]?.GetValue<long>() ?? throw new VzExternalToolException("qemu-img", ["info", path], 0, "no virtual-size", path);
    }

    // ---- offline (stopped VMs, containers) ---------------------------------------------------------------------

    /// <summary>Move-VzContainer: a running container is stopped, copied and started on the destination (-Restart).</summary>
    public async Task<MigrationResult> MoveContainerAsync(Guid id, MigrationDestination destination, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        var trace = new PhaseTrace();
        var record = engine.Store.TryGet(id) ?? throw new VzNotFoundException("VzContainerNotFound", $"No container with id {id} exists on this host.", id);
        var activity = $"Moving container '{record.DisplayName}' to {destination}";
        progress?.Report(new VzProgress(activity, "Checking both hosts", 0));
        var agent = Agent(destination);
        await using var session = agent.OpenSession();
        var (config, mode, found, _) = await SourceSideAsync(record, true, ct);
        trace.Mark("source checks");
        var probe = await session.CallAsync<AgentProbeReply>("probe", [], await ProbeRequestAsync(config, mode, null, ct), ProbeTimeout, ct);
        trace.Mark("destination checks");
        found.AddRange(probe.Incompatibilities);
        ThrowIfIncompatible(config.Name, found);
        return await MoveOfflineAsync(config, agent, session, destination, activity, trace, progress, ct);
    }

    private async Task<MigrationResult> MoveOfflineAsync(VeConfig config, RemoteAgent agent, AgentSession session, MigrationDestination destination, string activity, PhaseTrace trace, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        var id = config.Id;
        var isVm = config.Type == VeType.VirtualMachine;
        var wasRunning = isVm ? engine.Vms.Describe(engine.Store.TryGet(id)!).StateValue == VmState.Running
                              : engine.Containers.Describe(id).StateValue == ContainerState.Running;
        var dir = engine.Paths.VeDirectory(id);
        string[] exclude = ["./.lock", "./" + MigrationAgent.IncomingMarkerName];
        progress?.Report(new VzProgress(activity, "Registering on the destination", 2));
        var ready = await session.CallAsync<AgentPrepareReply>("prepare", [], new AgentPrepareRequest { ConfigYaml = Yaml.Serializer.Serialize(config), Mode = MigrationMode.Offline }, TimeSpan.FromSeconds(60), ct);
        trace.Mark("registered");
        Stopwatch? down = null;
        long sent = 0;
        try
        {
            if (wasRunning && !isVm)
            {
                // Pre-copy while it runs, so the pass after the stop sends only what changed (Virtuozzo's "standard
                // migration", rsync as Proxmox uses it): the downtime is the delta, not the whole private area.
                // Two passes: the first sends the whole tree and takes long enough for the container to change
                // files meanwhile; the second sends those, so the pass after the stop is as small as it gets.
                progress?.Report(new VzProgress(activity, "Copying the private area while the container runs", 10));
                await agent.SyncTreeAsync(dir, ready.VeDirectory, TimeSpan.FromMinutes(30), ct);
                progress?.Report(new VzProgress(activity, "Copying what changed meanwhile, the container still running", 40));
                await agent.SyncTreeAsync(dir, ready.VeDirectory, TimeSpan.FromMinutes(30), ct);
                trace.Mark("pre-copy");
            }
            if (wasRunning)
            {
                progress?.Report(new VzProgress(activity, "Stopping on the source", 50));
                down = Stopwatch.StartNew();
                if (isVm) await engine.Vms.StopAsync(id, VmStopMode.Graceful, TimeSpan.FromSeconds(60), null, ct);
                else await engine.Containers.StopAsync(id, false, TimeSpan.FromSeconds(60), ct);
                trace.Mark("stop");
            }
            progress?.Report(new VzProgress(activity, "Copying", 60));
            using (engine.Store.AcquireVeLock(id, ct))
            {
                if (isVm) sent += await agent.SendTreeAsync(id, dir, exclude, TimeSpan.FromMinutes(30), ct);
                else await agent.SyncTreeAsync(dir, ready.VeDirectory, TimeSpan.FromMinutes(30), ct);
            }
            trace.Mark("copy");
            progress?.Report(new VzProgress(activity, wasRunning ? "Starting on the destination" : "Confirming on the destination", 90));
            // One line on the session opened before the checks: the agent is warm, so only the commit itself is on the downtime.
            await session.CallAsync<System.Text.Json.JsonElement>("commit", wasRunning ? [id.ToString("D"), "--start"] : [id.ToString("D")], null, TimeSpan.FromMinutes(5), ct);
            down?.Stop();
            trace.Mark(wasRunning ? "commit and start" : "commit");
        }
        catch (Exception ex)
        {
            logger.LogWarning("Moving '{Name}' failed ({Error}); rolling back.", config.Name, ex.Message);
            var targetOwns = await AbortOnDestinationAsync(agent, config);
            if (!targetOwns)
            {
                if (wasRunning && down is not null)
                {
                    if (isVm) await engine.Vms.StartAsync(id, false, TimeSpan.FromSeconds(60), null, CancellationToken.None);
                    else await engine.Containers.StartAsync(id, null, CancellationToken.None);
                }
                throw;
            }
        }
        engine.Store.Remove(id, CancellationToken.None);
        if (isVm) engine.Vms.CgroupPlacement.Delete(id);
        trace.Mark("source removed");
        logger.LogDebug("Move of {Name}: {Phases} ms; {Total:0.0} ms in all.", config.Name, trace.Summary, trace.Elapsed.TotalMilliseconds);
        progress?.Report(new VzProgress(activity, "Done", 100) { Completed = true });
        return new MigrationResult
        {
            Name = config.Name, Id = id, Type = config.Type, DestinationHost = destination.ToString(), Mode = MigrationMode.Offline,
            Running = wasRunning, TotalTime = trace.Elapsed, Downtime = down?.Elapsed, DiskTransferredBytes = sent, DestinationDirectory = ready.VeDirectory,
            Phases = trace.Phases,
        };
    }
}
