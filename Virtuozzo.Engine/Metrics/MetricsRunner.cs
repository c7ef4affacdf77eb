using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Service;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// The host service's metrics part, beside the supervisor loop: every <see cref="Interval"/> it samples the running
/// VEs (files, plus one query-blockstats per VM), writes <see cref="UsageSnapshot"/> for Get-VzVm/Get-VzContainer,
/// and keeps the Prometheus endpoint in line with the host settings. A scrape re-reads the running VEs' file
/// counters (fresh CPU, memory, network) and takes VM disk counters from the last pass.
/// </summary>
public sealed class MetricsRunner(VzEngine engine, ILogger logger) : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MonitorTimeout = TimeSpan.FromSeconds(3);
    private readonly VeSampler sampler = new(engine);
    private readonly HostServicePaths paths = HostServicePaths.For(engine.Paths);
    private volatile State state = new([], new Dictionary<Guid, VeSample>());
    private MetricsEndpoint? endpoint;
    private MetricsSettings? endpointSettings;
    private string? lastError;

    /// <summary>The registered VEs and the last samples of the running ones (replaced whole: a scrape reads one pass).</summary>
    private sealed record State(IReadOnlyList<VeConfig> Registered, IReadOnlyDictionary<Guid, VeSample> Running);

    /// <summary>The address the endpoint listens on now; null when it is off or failed.</summary>
    public string? ListeningAddress => endpoint?.Address;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try { await TickAsync(cancellationToken); }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { break; }
            catch (Exception ex) when (ex is VzException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                logger.LogWarning("Metrics pass failed: {Error}", ex.Message);
            }
            try { await Task.Delay(Interval, cancellationToken); }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>One pass: sample, write the snapshot, reconcile the endpoint.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        var registered = engine.Store.List().Where(r => r.State == VeRegistrationState.Ready && r.Config is not null).Select(r => r.Config!).ToList();
        var before = state.Running;
        var running = new Dictionary<Guid, VeSample>();
        var entries = new List<UsageSnapshotEntry>();
        foreach (var config in registered)
        {
            var s = await sampler.SampleAsync(config, MonitorTimeout, cancellationToken);
            if (!s.Running || s.ProcessId is not { } pid) continue;
            running[config.Id] = s;
            var cpu = before.TryGetValue(config.Id, out var b) && b.ProcessId == pid ? VeUsageCalculator.Between(b, s).CpuPercent : (double?)null;
            if (cpu is { } c) entries.Add(new UsageSnapshotEntry(config.Id, pid, c, s.MemoryResident));
        }
        state = new State(registered, running);
        try { new UsageSnapshot { SampledAt = DateTimeOffset.UtcNow, Ves = entries }.Write(paths); }
        catch (IOException ex) { logger.LogWarning("Cannot write the usage snapshot: {Error}", ex.Message); }
        await ReconcileEndpointAsync();
    }

    /// <summary>The exposition for one scrape.</summary>
    public string Render()
    {
        var st = state;
        var fresh = new List<VeSample>(st.Running.Count);
        foreach (var config in st.Registered)
        {
            if (!st.Running.TryGetValue(config.Id, out var last)) continue;
            // Counters re-read; a VM's disks (counted by its monitor) and balloon from the last pass, never a QMP round trip per scrape.
            if (sampler.Refresh(config, last) is { Running: true } s) fresh.Add(s);
        }
        Ksm.KsmStatus? ksm = null;
        try { ksm = engine.Ksm.Read(); }
        catch (Exception ex) when (ex is VzException or IOException or UnauthorizedAccessException) { }
        var host = new MetricsCollector.HostFigures(MemInfo.Read(), MemoryPressure.ReadSomeAvg10(), Environment.ProcessorCount, ksm);
        return MetricsCollector.Render(st.Registered, fresh, host);
    }

    private async Task ReconcileEndpointAsync()
    {
        var settings = HostSettingsCache.TryLoad()?.Metrics;
        var wanted = settings is { Enabled: true } ? settings : null;
        if (wanted == endpointSettings && (endpoint is not null || wanted is null)) return;
        if (endpoint is not null)
        {
            await endpoint.DisposeAsync();
            endpoint = null;
            logger.LogInformation("Metrics endpoint stopped.");
        }
        var error = (string?)null;
        if (wanted is not null)
        {
            // A failed bind (the port taken by another program) is tried again every pass; said once per cause.
            try
            {
                var address = MetricsAddress.Parse(wanted.Address);
                MetricsAddress.CheckScope(address, wanted.AllowRemote);
                endpoint = new MetricsEndpoint(address, Render);
                logger.LogInformation("Metrics endpoint listening on http://{Address}/metrics.", endpoint.Address);
            }
            catch (VzException ex)
            {
                error = ex.Message;
                if (error != lastError || wanted != endpointSettings) logger.LogWarning("Metrics endpoint not started: {Error} {Action}", ex.Message, ex.RecommendedAction);
            }
        }
        var changed = wanted != endpointSettings || error != lastError || endpoint is not null;
        endpointSettings = wanted;
        lastError = error;
        if (!changed) return;
        try { new MetricsEndpointState { ProcessId = Environment.ProcessId, Address = endpoint?.Address ?? wanted?.Address, Listening = endpoint is not null, Error = lastError }.Write(paths); }
        catch (IOException ex) { logger.LogWarning("Cannot write {Path}: {Error}", MetricsEndpointState.PathFor(paths), ex.Message); }
    }

    public async ValueTask DisposeAsync()
    {
        if (endpoint is not null) await endpoint.DisposeAsync();
        endpoint = null;
        try { File.Delete(MetricsEndpointState.PathFor(paths)); } catch (IOException) { }
    }
}
