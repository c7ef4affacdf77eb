namespace Virtuozzo.Engine.Store;

/// <summary>What the host service does with a running VE when the service stops (prlctl --autostop).</summary>
public enum VeAutoStop
{
    /// <summary>Leave it running (the default: restarting the service never touches VEs).</summary>
    None,
    /// <summary>Shut it down (a VM through its guest agent or ACPI, a container through its init).</summary>
    Stop,
    /// <summary>A VM saves its memory to disk (Suspend-VzVm -SaveState); a container is frozen.</summary>
    Suspend,
}
