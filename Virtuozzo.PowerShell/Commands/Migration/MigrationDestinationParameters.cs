using System.Management.Automation;
using Virtuozzo.Engine.Migration;

namespace Virtuozzo.Commands;

/// <summary>
/// Where a VE moves to, declared once for Test-VzMigration, Move-VzVm and Move-VzContainer: each hands an instance to
/// PowerShell as its dynamic parameters, so the three cmdlets cannot drift in names, aliases or validation (a runbook
/// that checks with Test-VzMigration and then moves with the same splatted hashtable must bind the same way).
/// </summary>
public sealed class MigrationDestinationParameters
{
    /// <summary>The host to move to: a name ssh resolves (or an alias of the ssh client config).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    [Alias("HostName")]
    public string DestinationHost { get; set; } = "";

    /// <summary>The destination's sshd port; ssh's own default (or its config) when not given.</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int Port { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? UserName { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyFilePath { get; set; }

    public MigrationDestination ToDestination() => new(DestinationHost, Port > 0 ? Port : null, UserName, KeyFilePath);
}
