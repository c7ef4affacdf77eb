namespace Virtuozzo.Engine.Errors;

/// <summary>An operation that has no meaning for this VE or its guest OS (a Windows SID change on a Linux guest).</summary>
public sealed class VzNotSupportedException(string errorId, string message, object? target) : VzException(errorId, message, target);
