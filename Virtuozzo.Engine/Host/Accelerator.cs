namespace Virtuozzo.Engine.Host;

/// <summary>How QEMU runs guest code on this host.</summary>
public enum Accelerator
{
    /// <summary>QEMU is not installed or cannot run a guest at all.</summary>
    None,
    /// <summary>Software emulation: works everywhere, slower.</summary>
    Tcg,
    /// <summary>Hardware virtualization.</summary>
    Kvm,
}
