namespace Virtuozzo.Engine.Errors;

/// <summary>A wait ran out: a process, a guest agent, a lock, a device that did not answer in time.</summary>
public class VzTimeoutException(string errorId, string message, object? target, TimeSpan timeout)
    : VzException(errorId, message, target)
{
    public TimeSpan Timeout { get; } = timeout;
}
