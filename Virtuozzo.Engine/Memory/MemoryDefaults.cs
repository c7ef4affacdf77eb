namespace Virtuozzo.Engine.Memory;

/// <summary>
/// vcmmd's constants, kept as Virtuozzo 7 defines them (see virtuozzo7-semantics.md §3.3): the default guarantee is
/// 40 % for VMs and 0 % for containers; a VM costs QEMU's own 64 MiB plus 8 bytes of page tables per guest page.
/// </summary>
public static class MemoryDefaults
{
    public const int VmGuaranteePercent = 40;
    public const int ContainerGuaranteePercent = 0;
    public const long VmOverheadBase = 64L << 20;
    public const long PageSize = 4096;
    public const long OverheadPerPage = 8;

    /// <summary>Host and system reserves: clamp(4 %, 128 MiB, 320 MiB) each; user reserve clamp(2 %, 32 MiB, 128 MiB).</summary>
    public static long HostReserve(long total) => Math.Clamp(total * 4 / 100, 128L << 20, 320L << 20);
    public static long SystemReserve(long total) => Math.Clamp(total * 4 / 100, 128L << 20, 320L << 20);
    public static long UserReserve(long total) => Math.Clamp(total * 2 / 100, 32L << 20, 128L << 20);
}
