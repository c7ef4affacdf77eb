using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Service;
using Virtuozzo.HostService;

// The host service: one per data root (VZ_ROOT, VZ_RUN_ROOT, VZ_CGROUP_PARENT and VZ_HOST_CONFIG resolve it as they
// do for the module). Under systemd it runs as Type=notify and logs to journald; by hand it logs to the console.
VzPaths paths;
try { paths = VzPaths.Resolve(); }
catch (VzException ex)
{
    await Console.Error.WriteLineAsync($"vz-hostservice: {ex.Message}");
    return 2;
}
// The destination side of a move between hosts: one verb per ssh session from the source (Engine/Migration).
if (args.Length > 0 && args[0] == Virtuozzo.Engine.Migration.RemoteAgent.Verb)
{
    using var factory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).AddFilter(l => l >= LogLevel.Warning)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
    var agentEngine = new VzEngine(paths, factory);
    return await new Virtuozzo.Engine.Migration.MigrationAgent(agentEngine).RunAsync(args[1..], Console.OpenStandardInput(), Console.Out, CancellationToken.None);
}
// The agent verbs above return before this: each one is a process inside a migration's critical path, and the
// generic host's configuration, logging and DI set-up are start-up time they do not need.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddSystemd();
builder.Logging.ClearProviders();
if (SystemdHelpers.IsSystemdService()) builder.Logging.AddSystemdConsole();
else builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; });
builder.Logging.SetMinimumLevel(Environment.GetEnvironmentVariable("VZ_HOSTSERVICE_DEBUG") == "1" ? LogLevel.Debug : LogLevel.Information);
// AutoStop may shut down every VE: systemd's TimeoutStopSec, not the default 30 s, bounds the stop.
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(5));
builder.Services.AddSingleton(paths);
builder.Services.AddSingleton(sp => new VzEngine(paths, sp.GetRequiredService<ILoggerFactory>()));
builder.Services.AddHostedService<SupervisorWorker>();
builder.Services.AddHostedService<MetricsWorker>();

// The lock before anything else: a second instance must fail at once, naming the first, and touch nothing.
IDisposable instanceLock;
try { instanceLock = HostServiceLock.Acquire(HostServicePaths.For(paths)); }
catch (VzInvalidStateException ex)
{
    await Console.Error.WriteLineAsync($"vz-hostservice: {ex.Message} {ex.RecommendedAction}");
    return 3;
}
using (instanceLock)
{
    using var host = builder.Build();
    await host.RunAsync();
}
return 0;
