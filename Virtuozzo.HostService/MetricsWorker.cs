using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine;
using Virtuozzo.Engine.Metrics;

namespace Virtuozzo.HostService;

/// <summary>
/// Runs the engine's <see cref="MetricsRunner"/> beside the supervisor: its own loop, so a slow sample or scrape
/// never delays the watch or the memory manager, and theirs never delay a scrape.
/// </summary>
internal sealed class MetricsWorker(VzEngine engine, ILogger<MetricsWorker> logger) : IHostedService
{
    private readonly CancellationTokenSource stopping = new();
    private MetricsRunner? runner;
    private Task? loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        runner = new MetricsRunner(engine, logger);
        loop = Task.Run(() => runner.RunAsync(stopping.Token));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        if (loop is not null) await loop;
        if (runner is not null) await runner.DisposeAsync();
    }
}
