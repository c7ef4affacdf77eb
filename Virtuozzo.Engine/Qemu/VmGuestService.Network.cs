using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Agent;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Setting a running guest's network and host name through the agent, and reading back what it uses.</summary>
public sealed partial class VmGuestService
{
    /// <summary>
    /// Applies <paramref name="settings"/> in the guest, one guest-exec step at a time (<see cref="GuestNetworkPlan"/>);
    /// all input is checked before the first step runs. A step that fails stops the rest and says which and why.
    /// </summary>
    public async Task SetNetworkAsync(Guid id, GuestNetworkSettings settings, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (_, name) = vms.Running(id);
        var steps = GuestNetworkPlan.For(settings, name);
        foreach (var step in steps)
        {
            var r = await ExecAsync(id, step.Path, step.Arguments, null, timeout, cancellationToken);
            if (r.ExitCode != 0 || r.Signal is not null)
                throw new VzInvalidStateException("VzGuestNetworkFailed",
                    $"Could not {step.Purpose} in the VM '{name}': '{step.Path}' exited with {r.ExitCode}{(r.StdErr.Length > 0 ? ": " + r.StdErr.Trim() : ".")}", name)
                { RecommendedAction = "Check the interface name with Get-VzVmGuestNetwork and that the guest has ip (iproute2 or busybox); steps before this one are in effect." };
        }
        logger.LogInformation("Set the guest network of '{Name}' ({Steps} steps).", name, steps.Count);
    }

    /// <summary>
    /// The guest's interfaces as the agent reports them, with each one's default gateway and the guest's DNS servers
    /// read from /proc/net/route and /etc/resolv.conf. Those two need guest-exec; an agent that refuses it still
    /// gives the interfaces, without them.
    /// </summary>
    public async Task<IReadOnlyList<GuestNetworkInterface>> GetNetworkAsync(Guid id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (rt, name) = vms.Running(id);
        await AgentChannel.RequireConnectedAsync(rt, name, cancellationToken);
        IReadOnlyList<GuestNetworkInterface> interfaces;
        await using (var agent = await VmService.OpenAgentAsync(rt, name, timeout, cancellationToken))
            interfaces = await agent.GuestNetworkGetInterfacesAsync(timeout, cancellationToken);
        IReadOnlyDictionary<string, string> gateways;
        IReadOnlyList<string> nameservers;
        try
        {
            gateways = GuestNetworkPlan.DefaultGateways((await ExecAsync(id, "cat", ["/proc/net/route"], null, timeout, cancellationToken)).StdOut);
            var resolv = await ExecAsync(id, "cat", ["/etc/resolv.conf"], null, timeout, cancellationToken);
            nameservers = resolv.ExitCode == 0 ? GuestNetworkPlan.Nameservers(resolv.StdOut) : [];
        }
        catch (Exception ex) when (ex is VzException or QgaException)
        {
            logger.LogDebug("No routes or DNS servers from '{Name}': {Error}", name, ex.Message);
            return interfaces;
        }
        return interfaces.Select(i => i with { Gateway = gateways.GetValueOrDefault(i.Name), Nameserver = nameservers }).ToList();
    }
}
