using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Qemu.Process;

namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>
/// Whether a guest agent is there to talk to, asked of QEMU rather than of the guest: the agent's virtio-serial port
/// is open on the guest side only while a program in the guest (qemu-ga) holds it. A closed port means a guest-sync
/// would wait its whole timeout for nothing, so callers that only want an answer fail at once instead.
/// </summary>
public static class AgentChannel
{
    /// <summary>The agent's chardev id on the QEMU command line.</summary>
    public const string ChardevId = "qga0";

    /// <summary>How long the question may take: it saves waits, so it must not become one (the monitor may be busy).</summary>
    private static readonly TimeSpan AskBound = TimeSpan.FromSeconds(2);

    /// <summary>True when the guest holds the agent port open, false when not, null when QEMU cannot say in time.</summary>
    public static async Task<bool?> IsOpenAsync(VmRuntimePaths paths, string name, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(AskBound);
        try
        {
            await using var monitor = await QemuMonitor.OpenAsync(paths, name, bound.Token);
            return await monitor.IsChardevFrontendOpenAsync(ChardevId, bound.Token);
        }
        // A busy or slow monitor must not turn into a false "no agent": then the caller just asks the agent.
        catch (VzException) { return null; }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { return null; }
    }

    /// <summary>Fails with VzGuestAgentNotConnected when the guest has not opened the agent port.</summary>
    public static async Task RequireConnectedAsync(VmRuntimePaths paths, string name, CancellationToken cancellationToken)
    {
        if (await IsOpenAsync(paths, name, cancellationToken) == false)
            throw new VzUnavailableException("VzGuestAgentNotConnected",
                $"The guest agent of '{name}' is not connected: nothing in the guest has opened the agent channel (the guest is still booting, or qemu-guest-agent does not run in it).", name)
            { RecommendedAction = "Install and start qemu-guest-agent in the guest (Get-VzVm -GuestTools shows when it answers); after a start, Start-VzVm -Wait waits for it." };
    }
}
