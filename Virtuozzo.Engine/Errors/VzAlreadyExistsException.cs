namespace Virtuozzo.Engine.Errors;

/// <summary>Something with that name or id is already there.</summary>
public sealed class VzAlreadyExistsException(string errorId, string message, object? target)
    : VzException(errorId, message, target);
