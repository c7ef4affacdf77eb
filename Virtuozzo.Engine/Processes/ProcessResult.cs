namespace Virtuozzo.Engine.Processes;

/// <summary>What a finished subprocess left: its exit code and everything it printed.</summary>
public sealed record ProcessResult(string Tool, IReadOnlyList<string> Arguments, int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed);
