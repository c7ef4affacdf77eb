namespace Virtuozzo.Engine.Ksm;

/// <summary>The values of /sys/kernel/mm/ksm/run.</summary>
public enum KsmRunMode
{
    /// <summary>ksmd sleeps; merged pages stay merged.</summary>
    Stopped = 0,
    /// <summary>ksmd scans and merges.</summary>
    Running = 1,
    /// <summary>ksmd stops and un-merges every merged page.</summary>
    Unmerge = 2,
}
