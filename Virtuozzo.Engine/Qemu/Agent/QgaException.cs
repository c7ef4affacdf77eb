using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>The guest agent answered a command with an error (for example an unknown user for a password change).</summary>
public sealed class QgaException(string command, string agentClass, string description, object? target)
    : VzException("VzGuestAgentCommandFailed", $"The guest agent refused '{command}': {description}", target)
{
    public string Command { get; } = command;
    public string AgentClass { get; } = agentClass;
}
