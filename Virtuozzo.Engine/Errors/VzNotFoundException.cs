namespace Virtuozzo.Engine.Errors;

/// <summary>A VE, template, disk or other named thing does not exist.</summary>
public sealed class VzNotFoundException(string errorId, string message, object? target)
    : VzException(errorId, message, target);
