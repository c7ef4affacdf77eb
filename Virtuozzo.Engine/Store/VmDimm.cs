namespace Virtuozzo.Engine.Store;

/// <summary>
/// A DIMM hot-added while the VM ran. Recorded so a restore from saved state recreates exactly the memory layout
/// QEMU saved; a cold start folds the DIMMs back into the base RAM.
/// </summary>
public sealed class VmDimm
{
    public string Id { get; set; } = "";
    public long Size { get; set; }
}
