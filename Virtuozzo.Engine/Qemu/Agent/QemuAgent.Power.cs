using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>Guest power: guest-shutdown.</summary>
public sealed partial class QemuAgent
{
    /// <summary>Asks the guest OS to power off. The agent goes away without a reply, so none is awaited.</summary>
    public Task GuestShutdownAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        ExecuteAsync("guest-shutdown", new JsonObject { ["mode"] = "powerdown" }, timeout, cancellationToken, expectReply: false);
}
