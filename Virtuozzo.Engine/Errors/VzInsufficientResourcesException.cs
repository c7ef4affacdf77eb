namespace Virtuozzo.Engine.Errors;

/// <summary>The host cannot give what was asked: memory for a guarantee, free space for a copy.</summary>
public sealed class VzInsufficientResourcesException(string errorId, string message, object? target)
    : VzException(errorId, message, target);
