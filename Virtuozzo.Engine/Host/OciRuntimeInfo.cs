namespace Virtuozzo.Engine.Host;

/// <summary>An installed OCI runtime and whether it can run a container on this host.</summary>
public sealed record OciRuntimeInfo(string Name, string Path, string? Version, bool? CanRun, string? Reason)
{
    /// <summary>"crun 1.8.1 (runs)": short, for Format-List * and string expansion (not a record dump).</summary>
    public override string ToString() =>
        $"{Name}{(Version is { Length: > 0 } v ? " " + v : "")} ({CanRun switch { true => "runs", false => "cannot run: " + Reason, null => "not tried" }})";
}
