using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine;
using Virtuozzo.Engine.Service;

namespace Virtuozzo.HostService;

/// <summary>
/// Runs the engine's <see cref="HostSupervisor"/> under the generic host: OnBoot, then the loop until SIGTERM/Ctrl+C,
/// then AutoStop. Readiness (sd_notify READY=1) goes out when StartAsync returns, i.e. after OnBoot.
/// </summary>
internal sealed class SupervisorWorker(VzEngine engine, ILogger<SupervisorWorker> logger, IHostApplicationLifetime lifetime) : IHostedService
{
    private readonly CancellationTokenSource stopping = new();
    private HostSupervisor? supervisor;
    private Task? loop;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        supervisor = new HostSupervisor(engine);
        logger.LogInformation("Host service for {DataRoot} started (pid {Pid}).", engine.Paths.DataRoot, Environment.ProcessId);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping.Token);
        await supervisor.StartOnBootAsync(linked.Token);
        loop = Task.Run(async () =>
        {
            try { await supervisor.RunAsync(stopping.Token); }
            catch (Exception ex)
            {
                logger.LogCritical(ex, "The host service loop failed.");
                lifetime.StopApplication();
            }
        });
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        if (loop is not null) await loop;
        if (supervisor is not null) await supervisor.StopVesAsync(cancellationToken);
        logger.LogInformation("Host service for {DataRoot} stopped.", engine.Paths.DataRoot);
    }
}
