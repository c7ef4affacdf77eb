using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>How far hotplug may grow a VM. Which size changes are live (balloon first, DIMMs for the rest): MemoryResizePlanTests.</summary>
public sealed class MemoryHotplugTests
{
    private const long GiB = 1L << 30, MiB = 1L << 20;

    [Theory]
    [InlineData(1 * GiB, 64 * GiB, 4 * GiB)]           // 4x the RAM
    [InlineData(2 * GiB, 5 * GiB, 5 * GiB)]            // capped by the host
    [InlineData(2 * GiB, 5 * GiB + 100 * MiB, 5 * GiB)] // rounded down to 128 MiB DIMMs
    [InlineData(3 * GiB, 2 * GiB, 3 * GiB)]            // never below the VM's own RAM
    public void Max_memory_is_4x_capped_by_the_host_in_whole_dimms(long size, long hostTotal, long expected) =>
        Assert.Equal(expected, MemoryHotplug.MaxMemoryFor(size, hostTotal));
}
