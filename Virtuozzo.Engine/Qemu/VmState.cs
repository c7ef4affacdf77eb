namespace Virtuozzo.Engine.Qemu;

/// <summary>Derived from the QEMU process and its run folder, never stored.</summary>
public enum VmState
{
    Stopped,
    Running,
    Paused,
    /// <summary>Suspended to disk (Suspend-VzVm -SaveState): no QEMU runs; the next start resumes where it was.</summary>
    Saved,
}
