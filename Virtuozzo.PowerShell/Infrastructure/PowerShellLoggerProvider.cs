using Microsoft.Extensions.Logging;

namespace Virtuozzo.Commands.Infrastructure;

/// <summary>
/// Routes engine logging to the running cmdlet: Information to Verbose, Debug and Trace to Debug, Warning to
/// Warning, Error to Verbose (errors that matter reach the user as ErrorRecords, not log lines).
/// Messages logged outside a cmdlet call go nowhere.
/// </summary>
internal sealed class PowerShellLoggerProvider : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new SinkLogger(categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void Dispose() { }

    private sealed class SinkLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && CmdletSink.Current is not null;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (CmdletSink.Current is not { } sink) return;
            var text = $"{category}: {formatter(state, exception)}";
            sink.Post(logLevel switch
            {
                LogLevel.Trace or LogLevel.Debug => c => c.WriteDebug(text),
                LogLevel.Warning => c => c.WriteWarning(text),
                _ => c => c.WriteVerbose(text),
            });
        }
    }
}
