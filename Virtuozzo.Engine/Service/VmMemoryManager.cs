using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Memory;
using Virtuozzo.Engine.Memory.Balloon;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Service;

/// <summary>
/// The memory manager's loop: per running VM, reads the balloon (query-balloon, guest-stats), QEMU's RSS and the
/// host's memory and pressure, asks the VM's <see cref="BalloonPolicy"/>, and sends the target it answers. One VM's
/// failure (hung monitor, QEMU dying mid-command) is logged and skipped; the next pass tries again.
/// </summary>
public sealed class VmMemoryManager(HostServiceJournal journal, HostSupervisorOptions options, ILogger logger, TimeProvider? clock = null) : IAsyncDisposable
{
    private readonly TimeProvider time = clock ?? TimeProvider.System;
    private readonly ServiceMonitor monitors = new();
    private readonly Dictionary<Guid, Track> tracks = [];
    private readonly BalloonTraceWriter? trace = BalloonTraceWriter.FromEnvironment();

    private sealed class Track(int pid, BalloonPolicy policy)
    {
        public int Pid { get; } = pid;
        public BalloonPolicy Policy { get; set; } = policy;
        public bool StatsPollingSet { get; set; }
        public DateTimeOffset NextAt { get; set; }
        public string? LastFailure { get; set; }
    }

    /// <summary>One pass over the running VMs; returns their fresh live states by id (only the VMs it looked at).</summary>
    public async Task<Dictionary<Guid, VmLiveState>> TickAsync(IReadOnlyList<(VeConfig Config, VmRuntimePaths Paths, int Pid)> vms,
        BalloonPolicySettings settings, IReadOnlyDictionary<Guid, VmLiveState> previous, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var results = new Dictionary<Guid, VmLiveState>();
        foreach (var id in tracks.Keys.Except(vms.Select(v => v.Config.Id)).ToList()) tracks.Remove(id);
        await monitors.ForgetAllButAsync(vms.Select(v => v.Paths));
        var host = new HostMemoryState();
        var hostRead = false;
        foreach (var (config, rt, pid) in vms)
        {
            if (!tracks.TryGetValue(config.Id, out var track) || track.Pid != pid)
                tracks[config.Id] = track = new Track(pid, new BalloonPolicy(settings)); // a new QEMU: nothing sent to it yet
            if (track.Policy.Settings != settings)
            {
                track.Policy = track.Policy.WithSettings(settings);
            }
            if (now < track.NextAt) continue;
            track.NextAt = options.NextBalloonSampleAt(now);
            if (File.Exists(rt.PausedMarker)) continue; // vCPUs stopped: the guest can neither report nor comply
            if (File.Exists(rt.MigratingMarker)) continue; // moving to another host: a balloon change would dirty RAM being sent
            if (!hostRead)
            {
                var mem = Host.MemInfo.Read();
                host = new HostMemoryState { Total = mem.Total, Available = mem.Available, PressureSomeAvg10 = Host.MemoryPressure.ReadSomeAvg10() };
                hostRead = true;
            }
            try
            {
                var state = results[config.Id] = await PassAsync(config, rt, pid, track, host, previous.GetValueOrDefault(config.Id), cancellationToken);
                if (track.LastFailure is not null) logger.LogInformation("The monitor of '{Name}' answers again.", config.Name);
                track.LastFailure = null;
            }
            catch (Exception ex) when (ex is VzException or QmpException or IOException or InvalidDataException or InvalidOperationException or FormatException)
            {
                // A VM that stopped meanwhile is the watcher's business, not an error of the memory manager.
                if (!QemuProcess.Inspect(rt).Alive) continue;
                if (track.LastFailure != ex.Message) journal.Record("BalloonSkipped", config.Name, ex.Message, LogLevel.Warning);
                track.LastFailure = ex.Message;
            }
        }
        return results;
    }

    private async Task<VmLiveState> PassAsync(VeConfig config, VmRuntimePaths rt, int pid, Track track, HostMemoryState host, VmLiveState? previous, CancellationToken ct)
    {
        var name = config.Name;
        var guarantee = MemoryPlanner.Guarantee(config);
        var optedOut = config.Vm?.AutoBalloon == false;
        var (actual, stats, decision, sent, sample) = await monitors.RunAsync(rt, pid, name, options.MonitorTimeout, async (mon, token) =>
        {
            if (!track.StatsPollingSet)
            {
                await mon.SetBalloonStatsIntervalAsync(options.GuestStatsPollSeconds, token);
                track.StatsPollingSet = true;
            }
            // Both asked at once: one round trip to QEMU and one wake-up for the pair, not two.
            var actualAsk = mon.QueryBalloonAsync(token);
            var statsAsk = mon.GetBalloonStatsAsync(token);
            await Task.WhenAll(actualAsk, statsAsk);
            var (actual, stats) = (actualAsk.Result, statsAsk.Result);
            // Read as late as possible, just before deciding: a resize or a move that began since the pass started
            // pauses the policy (the service's monitor takes no lock that would have kept them apart).
            var paused = File.Exists(HostServicePaths.BalloonPauseMarker(rt.RunDirectory)) || File.Exists(rt.MigratingMarker);
            var sample = new BalloonSample
            {
                Time = time.GetUtcNow(), MemorySize = config.Memory.MemorySize, Guarantee = guarantee, Actual = actual,
                Guest = stats, Host = host, Paused = paused, OptedOut = optedOut,
            };
            var decision = track.Policy.Decide(sample);
            long? sent = null;
            if (decision.Target is { } target && Math.Abs(target - actual) >= BalloonPolicy.MiB)
            {
                await mon.SetBalloonAsync(target, token);
                track.Policy.Sent(target, sample.Time, decision.Urgent, decision.Resend);
                sent = target;
            }
            return (actual, stats, decision, sent, sample);
        }, ct);
        trace?.Write(name, sample, decision, sent, track.Policy.LastTarget);
        var now = time.GetUtcNow();
        if (sent is { } s)
            journal.Record(decision.Urgent ? "BalloonDeflate" : "BalloonTarget", name,
                $"{decision.Reason}: target {s / BalloonPolicy.MiB} MiB (actual {actual / BalloonPolicy.MiB} MiB, guarantee {guarantee / BalloonPolicy.MiB} MiB); {decision.Detail}");
        var changed = sent is not null || previous?.LastDecisionReason != decision.Reason.ToString();
        return (previous ?? new VmLiveState()) with
        {
            ProcessId = pid,
            MemoryUpdatedAt = now,
            BalloonActual = actual,
            BalloonTarget = track.Policy.LastTarget,
            WorkingSet = decision.WorkingSet,
            GuestAvailable = stats?.Available,
            HostResident = ProcMemory.ResidentBytes(pid),
            LastDecision = decision.Detail,
            LastDecisionReason = decision.Reason.ToString(),
            LastDecisionAt = changed ? now : previous?.LastDecisionAt ?? now,
        };
    }

    /// <summary>Closes the monitor connections kept between passes.</summary>
    public ValueTask DisposeAsync() => monitors.DisposeAsync();
}
