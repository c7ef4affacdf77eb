using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>Run state of the vCPUs and of QEMU itself: query-status, stop, cont, system_powerdown, quit.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>QEMU's run state ("running", "paused", "inmigrate", "postmigrate", "prelaunch"...).</summary>
    public async Task<string?> QueryStatusAsync(CancellationToken cancellationToken) =>
        (await ExecuteAsync("query-status", null, cancellationToken))?["status"]?.GetValue<string>();

    /// <summary>Pauses the vCPUs; memory and devices stay.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => ExecuteAsync("stop", null, cancellationToken);

    /// <summary>Lets paused vCPUs run again.</summary>
    public Task ContAsync(CancellationToken cancellationToken) => ExecuteAsync("cont", null, cancellationToken);

    /// <summary>Presses the ACPI power button; the guest decides whether and when to power off.</summary>
    public Task SystemPowerdownAsync(CancellationToken cancellationToken) => ExecuteAsync("system_powerdown", null, cancellationToken);

    /// <summary>Ends QEMU at once. QEMU may close the monitor before its reply; that counts as done.</summary>
    public async Task QuitAsync(CancellationToken cancellationToken)
    {
        try { await ExecuteAsync("quit", null, cancellationToken); }
        catch (Errors.VzInvalidStateException) { /* QEMU closed the monitor while quitting */ }
    }
}
