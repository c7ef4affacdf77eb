using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu;

namespace Virtuozzo.Engine.Service;

/// <summary>
/// Keeps each running VM's guest tools facts (agent answering, OS, addresses) fresh in its live-state cache, so
/// Get-VzVm shows them at once (Virtuozzo's PSBM-44235 asked for exactly this).
/// </summary>
public sealed class GuestToolsRefresher(VmGuestService guest, HostSupervisorOptions options, TimeProvider? clock = null)
{
    private readonly TimeProvider time = clock ?? TimeProvider.System;
    private readonly Dictionary<Guid, (int Pid, DateTimeOffset NextAt)> due = [];

    /// <summary>Refreshes the VMs whose turn it is; returns their updated live states.</summary>
    public async Task<Dictionary<Guid, VmLiveState>> TickAsync(IReadOnlyList<(Guid Id, int Pid, bool Paused)> vms,
        IReadOnlyDictionary<Guid, VmLiveState> previous, CancellationToken cancellationToken)
    {
        var results = new Dictionary<Guid, VmLiveState>();
        foreach (var id in due.Keys.Except(vms.Select(v => v.Id)).ToList()) due.Remove(id);
        foreach (var (id, pid, paused) in vms)
        {
            var now = time.GetUtcNow();
            if (due.TryGetValue(id, out var d) && d.Pid == pid && now < d.NextAt) continue;
            due[id] = (pid, now + options.GuestRefreshInterval);
            var state = (previous.GetValueOrDefault(id) is { } p && p.ProcessId == pid ? p : new VmLiveState()) with { ProcessId = pid };
            if (paused)
            {
                results[id] = state with { GuestToolsState = GuestToolsState.NotResponding, GuestToolsUpdatedAt = now };
                continue;
            }
            try
            {
                var info = await guest.GetInfoAsync(id, options.AgentTimeout, cancellationToken);
                var nics = await guest.GetNetworkAsync(id, options.AgentTimeout, cancellationToken);
                results[id] = state with
                {
                    GuestToolsState = GuestToolsState.Responding,
                    GuestToolsUpdatedAt = time.GetUtcNow(),
                    OsName = info.OsName,
                    OsVersion = info.OsVersion,
                    KernelRelease = info.KernelRelease,
                    IpAddresses = nics.Where(n => n.Name != "lo").SelectMany(n => n.IPAddresses).ToList(),
                };
            }
            catch (VzException)
            {
                // Booting, no agent, or the agent is busy with someone's command: say so, keep the last known facts.
                results[id] = state with { GuestToolsState = GuestToolsState.NotResponding, GuestToolsUpdatedAt = time.GetUtcNow() };
            }
        }
        return results;
    }
}
