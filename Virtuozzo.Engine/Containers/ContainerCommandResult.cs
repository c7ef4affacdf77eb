namespace Virtuozzo.Engine.Containers;

/// <summary>What a command run inside a container left: its exit code and output.</summary>
public sealed record ContainerCommandResult
{
    public string Name { get; init; } = "";
    public Guid Id { get; init; }
    public string[] Command { get; init; } = [];
    public int ExitCode { get; init; }
    public string StdOut { get; init; } = "";
    public string StdErr { get; init; } = "";
    public TimeSpan Duration { get; init; }
}
