namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>One entry of query-block-jobs: its id (device), type ("mirror", "backup"...), progress and readiness.</summary>
public sealed record BlockJobInfo(string Device, string Type, long Length, long Offset, bool Ready);
