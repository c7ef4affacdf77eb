using Microsoft.Extensions.Logging;
using Virtuozzo.Engine;
using Virtuozzo.Engine.Configuration;

namespace Virtuozzo.Commands.Infrastructure;

/// <summary>
/// One engine per data root per process. Paths are resolved on every call (environment and host settings can
/// change inside a session, as tests do), and an engine is created only when a cmdlet first needs one.
/// </summary>
internal static class EngineHost
{
    private static readonly ILoggerFactory loggerFactory =
        new LoggerFactory([new PowerShellLoggerProvider()], new LoggerFilterOptions { MinLevel = LogLevel.Trace });
    private static readonly object gate = new();
    private static VzEngine? engine;

    public static VzEngine Get()
    {
        var paths = VzPaths.Resolve();
        lock (gate)
        {
            if (engine is null || engine.Paths != paths) engine = new VzEngine(paths, loggerFactory);
            return engine;
        }
    }
}
