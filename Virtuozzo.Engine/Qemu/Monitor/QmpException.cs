using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>QEMU refused a QMP command; <see cref="QmpClass"/> is QEMU's error class (GenericError, DeviceNotFound...).</summary>
public sealed class QmpException(string command, string qmpClass, string description, object? target)
    : VzException("VzQmpCommandFailed", $"QEMU refused '{command}': {description}", target)
{
    public string Command { get; } = command;
    public string QmpClass { get; } = qmpClass;
    public string Description { get; } = description;
}
