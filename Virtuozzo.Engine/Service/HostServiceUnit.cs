namespace Virtuozzo.Engine.Service;

/// <summary>What Install-VzHostService wrote, and whether systemd took it.</summary>
public sealed record HostServiceUnit
{
    public string Path { get; init; } = "";
    public string UnitName { get; init; } = "";
    /// <summary>True when systemd runs on this host and the unit was enabled and started.</summary>
    public bool Enabled { get; init; }
    public bool SystemdRunning { get; init; }
    /// <summary>How to start the service by hand where systemd does not run it.</summary>
    public string StartCommand { get; init; } = "";
    public string Content { get; init; } = "";
}
