namespace Virtuozzo.Engine.Qemu;

/// <summary>Facts the guest agent reports about the guest OS.</summary>
public sealed record GuestInfo
{
    public string VmName { get; init; } = "";
    public string? AgentVersion { get; init; }
    public string? OsName { get; init; }
    public string? OsVersion { get; init; }
    public string? KernelRelease { get; init; }
    public string? KernelVersion { get; init; }
    public string? Machine { get; init; }
    public string? HostName { get; init; }
    public string? TimeZone { get; init; }
    public int? TimeZoneOffsetSeconds { get; init; }
    public int OnlineCpuCount { get; init; }
    public IReadOnlyList<string> Disks { get; init; } = [];
    public IReadOnlyList<string> SupportedCommands { get; init; } = [];
}
