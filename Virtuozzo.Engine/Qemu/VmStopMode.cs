namespace Virtuozzo.Engine.Qemu;

/// <summary>How Stop-VzVm ends a VM.</summary>
public enum VmStopMode
{
    /// <summary>Ask the guest agent to power off; when it does not answer, press the ACPI power button.</summary>
    Graceful,
    /// <summary>Press the ACPI power button only.</summary>
    Acpi,
    /// <summary>Pull the plug: QEMU is terminated at once.</summary>
    Kill,
}
