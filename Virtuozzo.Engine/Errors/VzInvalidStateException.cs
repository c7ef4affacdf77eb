namespace Virtuozzo.Engine.Errors;

/// <summary>The operation is valid in general but not in the object's current state (running, stopped...).</summary>
public sealed class VzInvalidStateException(string errorId, string message, object? target)
    : VzException(errorId, message, target);
