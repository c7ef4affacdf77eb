namespace Virtuozzo.Engine.Errors;

/// <summary>
/// Root of every error the engine raises on purpose. The cmdlet layer maps each subclass to one ErrorCategory
/// in one place, so a new failure mode is a new subclass, never a new catch block in a cmdlet.
/// </summary>
public abstract class VzException : Exception
{
    protected VzException(string errorId, string message, object? target, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Target = target;
    }

    /// <summary>Stable, unlocalized id (for example <c>VzVmNotFound</c>) that scripts and tests match on.</summary>
    public string ErrorId { get; }

    /// <summary>What the operation was about: a name, an id, a path or a VE object.</summary>
    public object? Target { get; }

    /// <summary>What the user can do about it; shown after the message.</summary>
    public string? RecommendedAction { get; init; }
}
