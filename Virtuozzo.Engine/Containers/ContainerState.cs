namespace Virtuozzo.Engine.Containers;

/// <summary>A container's state, derived each time from its init process, the runtime and the freezer.</summary>
public enum ContainerState
{
    Stopped,
    Running,
    /// <summary>Frozen by Suspend-VzContainer (cgroup freezer).</summary>
    Suspended,
    /// <summary>Being created right now.</summary>
    Creating,
    /// <summary>Left half-created; it can only be removed.</summary>
    Incomplete,
    /// <summary>Its ve.yaml does not read.</summary>
    Corrupt,
}
