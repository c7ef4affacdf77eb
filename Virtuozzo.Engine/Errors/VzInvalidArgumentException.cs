namespace Virtuozzo.Engine.Errors;

/// <summary>A value the caller gave is out of range, malformed or contradicts another value.</summary>
public sealed class VzInvalidArgumentException(string errorId, string message, object? target, string? parameterName = null)
    : VzException(errorId, message, target)
{
    /// <summary>The parameter (PowerShell name) the bad value came in on, when one did.</summary>
    public string? ParameterName { get; } = parameterName;
}
