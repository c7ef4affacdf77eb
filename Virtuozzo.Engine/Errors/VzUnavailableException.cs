namespace Virtuozzo.Engine.Errors;

/// <summary>
/// Something the operation talks to is not there right now, and waiting would not bring it: a guest agent that never
/// connected, for example. Unlike a timeout, the engine knows without waiting.
/// </summary>
public sealed class VzUnavailableException(string errorId, string message, object? target)
    : VzException(errorId, message, target);
