namespace Virtuozzo.Engine.Processes;

/// <summary>How to run one subprocess. Defaults: 60 s timeout, exit code 0 is success, nothing on stdin.</summary>
public sealed record ProcessRunOptions
{
    public static readonly ProcessRunOptions Default = new();

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Exit codes that count as success; anything else raises <see cref="Errors.VzExternalToolException"/>.</summary>
    public IReadOnlyCollection<int> SuccessExitCodes { get; init; } = [0];

    /// <summary>When false, a failing exit code is returned in the result instead of thrown.</summary>
    public bool ThrowOnFailure { get; init; } = true;

    public string? StandardInput { get; init; }
    public string? WorkingDirectory { get; init; }
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Called for each stdout line as it arrives (progress parsing, streaming). Runs on a pool thread.</summary>
    public Action<string>? OnStandardOutputLine { get; init; }

    /// <summary>Called for each stderr line as it arrives. Runs on a pool thread.</summary>
    public Action<string>? OnStandardErrorLine { get; init; }

    /// <summary>The VE or path the run is for; carried into errors as their target.</summary>
    public object? Target { get; init; }

    /// <summary>Mask argument values in logs (passwords on a command line are avoided, but keys and tokens happen).</summary>
    public bool RedactArgumentsInLog { get; init; }
}
