namespace Virtuozzo.Engine.Qemu;

/// <summary>Derived from the QEMU process and its run folder, never stored.</summary>
public enum VmState
{
    Stopped,
    Running,
    Paused,
}
