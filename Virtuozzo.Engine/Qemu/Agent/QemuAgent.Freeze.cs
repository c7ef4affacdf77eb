using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>Guest file system freeze for consistent snapshots and backups: guest-fsfreeze-freeze, -thaw, -status.</summary>
public sealed partial class QemuAgent
{
    /// <summary>Flushes and freezes every freezable file system in the guest; returns how many it froze.</summary>
    public async Task<int> FsFreezeAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        (await ExecuteAsync("guest-fsfreeze-freeze", null, timeout, cancellationToken))?.GetValue<int>() ?? 0;

    /// <summary>Thaws what a freeze froze; returns how many file systems it thawed.</summary>
    public async Task<int> FsThawAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        (await ExecuteAsync("guest-fsfreeze-thaw", null, timeout, cancellationToken))?.GetValue<int>() ?? 0;

    /// <summary>"thawed" or "frozen", as the agent sees it.</summary>
    public async Task<string?> FsFreezeStatusAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        Str(await ExecuteAsync("guest-fsfreeze-status", null, timeout, cancellationToken));
}
