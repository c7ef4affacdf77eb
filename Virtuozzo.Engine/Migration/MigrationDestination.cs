namespace Virtuozzo.Engine.Migration;

/// <summary>
/// The host a VE moves to, as ssh reaches it: a host name (or an alias of the ssh client config) with optional port,
/// user and key, as Invoke-Command -HostName takes them. Host keys are always checked: an unknown key is an
/// incompatibility, never silently trusted.
/// </summary>
public sealed record MigrationDestination(string HostName, int? Port = null, string? UserName = null, string? KeyFilePath = null)
{
    public override string ToString() => Port is { } p ? $"{HostName}:{p}" : HostName;
}
