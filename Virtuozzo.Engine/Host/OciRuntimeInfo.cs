namespace Virtuozzo.Engine.Host;

/// <summary>An installed OCI runtime and whether it can run a container on this host.</summary>
public sealed record OciRuntimeInfo(string Name, string Path, string? Version, bool? CanRun, string? Reason);
