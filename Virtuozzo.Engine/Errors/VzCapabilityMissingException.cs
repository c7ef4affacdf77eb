namespace Virtuozzo.Engine.Errors;

/// <summary>This host lacks something the operation needs: a program, a kernel feature, a device.</summary>
public sealed class VzCapabilityMissingException(string errorId, string message, object? target, string capability)
    : VzException(errorId, message, target)
{
    /// <summary>The missing thing, named so a user can install or enable it (for example <c>qemu-img</c>).</summary>
    public string Capability { get; } = capability;
}
