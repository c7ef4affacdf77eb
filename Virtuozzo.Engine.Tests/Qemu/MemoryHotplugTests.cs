using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>The memory hotplug plan: how far a VM may grow, and which size changes can be done live with a DIMM.</summary>
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

    private static VeConfig Vm(bool hotplug) => new()
    {
        Type = VeType.VirtualMachine,
        Memory = new MemorySettings { Size = 1 * GiB },
        Vm = new VmSettings { MemHotplug = hotplug, MaxMemorySize = hotplug ? 4 * GiB : 0 },
    };

    [Theory]
    [InlineData(true, 1 * GiB + 256 * MiB, 256 * MiB)]
    [InlineData(true, 1 * GiB + 100 * MiB, null)] // not whole DIMMs
    [InlineData(true, 512 * MiB, null)]           // shrinking is never live
    [InlineData(true, 5 * GiB, null)]             // past the slots' maximum
    [InlineData(false, 2 * GiB, null)]            // no hotplug
    public void Live_growth_is_whole_dimms_up_to_the_maximum(bool hotplug, long newSize, long? dimm) =>
        Assert.Equal(dimm, MemoryHotplug.LiveGrowth(Vm(hotplug), newSize));
}
