namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>guest-exec-status decoded: output is text, not base64; the rest is meaningful once <see cref="Exited"/>.</summary>
public sealed record GuestExecStatus
{
    public bool Exited { get; init; }
    public int ExitCode { get; init; } = -1;
    public int? Signal { get; init; }
    public string StdOut { get; init; } = "";
    public string StdErr { get; init; } = "";
    public bool OutputTruncated { get; init; }
}
