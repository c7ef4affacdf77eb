using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>Guest accounts: guest-set-user-password.</summary>
public sealed partial class QemuAgent
{
    /// <summary>Sets a password given base64-encoded (the agent's format); the caller owns clearing it.</summary>
    public Task GuestSetUserPasswordAsync(string userName, string base64Password, TimeSpan timeout, CancellationToken cancellationToken) =>
        ExecuteAsync("guest-set-user-password", new JsonObject { ["username"] = userName, ["password"] = base64Password, ["crypted"] = false }, timeout, cancellationToken);
}
