namespace Virtuozzo.Engine.Host;

/// <summary>One mount from mountinfo: where, what file system, from what source, with which super-block options.</summary>
public sealed record MountEntry(string MountPoint, string FileSystemType, string Source, string SuperOptions);
