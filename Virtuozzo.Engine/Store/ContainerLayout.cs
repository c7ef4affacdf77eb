namespace Virtuozzo.Engine.Store;

/// <summary>How a container's private area holds its root tree.</summary>
public enum ContainerLayout
{
    /// <summary>A plain folder under the VE's folder; no disk limit.</summary>
    Directory,

    /// <summary>A sparse XFS image, loop-mounted at start: a hard size limit that grows online.</summary>
    Image,
}
