namespace Virtuozzo.Engine.Memory;

/// <summary>Whether a VE holds host memory right now. Paused VEs keep their memory, so they count as active.</summary>
public enum VeActivity
{
    Stopped,
    Running,
    Paused,
}
