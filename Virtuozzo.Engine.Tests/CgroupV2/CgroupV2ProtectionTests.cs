using Virtuozzo.Engine.Containers;

namespace Virtuozzo.Engine.Tests.CgroupV2;

/// <summary>
/// The guarantee protects for real: under global reclaim caused outside `vz`, a container keeps at least its
/// memory.low resident while an unprotected one beside it is reclaimed. Both hold a 200 MiB working set on tmpfs
/// (shmem, charged to their group, swappable: the host has swap, the containers a swap allowance).
/// </summary>
[Trait("Category", "CgroupV2")]
public sealed class CgroupV2ProtectionTests : CgroupV2Ves
{
    private const long MiB = 1 << 20;

    [CgroupV2HostFact]
    public async Task GuaranteedMemoryStaysResidentWhileAHogOutsideForcesReclaim()
    {
        var guarded = await FillAsync("v2guarded", 50);
        var open = await FillAsync("v2open", 0);
        Assert.Equal(128 * MiB, ReadLong(ParentDir, "memory.low"));
        var swappedBefore = MemoryPressure.SwappedOutPages();
        using (var hog = new MemoryPressure(Mount))
        {
            hog.Apply(overshootMiB: 512);
            Assert.True(MemoryPressure.SwappedOutPages() - swappedBefore > 512 * MiB / 4096 / 2, "the hog pushed the host into swapping");
            var guardedMiB = ReadLong(Group(guarded), "memory.current") / MiB;
            var openMiB = ReadLong(Group(open), "memory.current") / MiB;
            GuestMeasurements.Record("test.guardedMiB", guardedMiB);
            GuestMeasurements.Record("test.openMiB", openMiB);
            Assert.True(guardedMiB >= 120, $"the guaranteed container kept {guardedMiB} MiB (memory.low 128 MiB)");
            Assert.True(openMiB < guardedMiB, $"the unprotected one kept {openMiB} MiB, the guaranteed one {guardedMiB} MiB");
        }
    }
}
