namespace Virtuozzo.Engine.Qemu;

/// <summary>What a program run in the guest through the agent left.</summary>
public sealed record GuestExecResult
{
    public string VmName { get; init; } = "";
    public string Command { get; init; } = "";
    public int ExitCode { get; init; }
    /// <summary>Set when the program was killed by a signal (ExitCode is then -1).</summary>
    public int? Signal { get; init; }
    public string StdOut { get; init; } = "";
    public string StdErr { get; init; } = "";
    /// <summary>True when the agent cut the output (qemu-ga keeps at most 16 MiB per stream).</summary>
    public bool OutputTruncated { get; init; }
    public TimeSpan Duration { get; init; }
}
