using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Memory.Balloon;

/// <summary>Resizing a running VM the Virtuozzo 7 way: balloon first, DIMMs only for the rest, shrink by balloon.</summary>
public sealed class MemoryResizePlanTests
{
    private const long MiB = 1L << 20, GiB = 1L << 30;

    private static VeConfig Vm(long size, bool hotplug, long max = 4 * GiB, long? boot = null, params long[] dimms)
    {
        var c = new VeConfig
        {
            Name = "web1", Type = VeType.VirtualMachine, Memory = new MemorySettings { MemorySize = size },
            Vm = new VmSettings { MemHotplug = hotplug, MaxMemorySize = hotplug ? max : 0, BootMemorySize = boot },
        };
        foreach (var d in dimms) c.Vm.Dimms.Add(new VmDimm { Id = $"d{c.Vm.Dimms.Count}", Size = d });
        return c;
    }

    [Fact]
    public void Growing_deflates_the_balloon_to_all_plugged_ram_first_and_adds_a_dimm_for_the_rest_only()
    {
        var plan = MemoryResizePlan.For(Vm(GiB, hotplug: true), 3 * GiB);
        Assert.Equal(GiB, plan.BalloonFirst);
        Assert.Equal(2 * GiB, plan.DimmBytes);
        Assert.Equal(3 * GiB, plan.BalloonTarget);
        Assert.False(plan.Deferred);
    }

    [Fact]
    public void A_vm_shrunk_by_its_balloon_grows_back_without_a_dimm()
    {
        // Booted with 3 GiB (1 GiB + a 2 GiB DIMM), shrunk to 1.5 GiB by the balloon: growing to 2.5 GiB needs no DIMM.
        var plan = MemoryResizePlan.For(Vm(1536 * MiB, hotplug: true, boot: GiB, dimms: 2 * GiB), 2560 * MiB);
        Assert.Equal(0, plan.DimmBytes);
        Assert.Null(plan.BalloonFirst);
        Assert.Equal(2560 * MiB, plan.BalloonTarget);
    }

    [Fact]
    public void Dimms_are_whole_128_MiB_blocks_and_the_balloon_hides_the_rounding()
    {
        var plan = MemoryResizePlan.For(Vm(GiB, hotplug: true), GiB + 200 * MiB);
        Assert.Equal(256 * MiB, plan.DimmBytes);
        Assert.Equal(GiB + 200 * MiB, plan.BalloonTarget);
    }

    [Fact]
    public void Shrinking_inflates_the_balloon_and_unplugs_nothing()
    {
        var plan = MemoryResizePlan.For(Vm(3 * GiB, hotplug: true, boot: GiB, dimms: 2 * GiB), 1536 * MiB);
        Assert.Equal(0, plan.DimmBytes);
        Assert.Equal(1536 * MiB, plan.BalloonTarget);
        Assert.Equal(3 * GiB, MemoryResizePlan.PluggedRam(Vm(3 * GiB, hotplug: true, boot: GiB, dimms: 2 * GiB)));
    }

    [Fact]
    public void Without_hotplug_a_running_vm_shrinks_and_grows_back_up_to_its_boot_size_only()
    {
        var shrunk = Vm(512 * MiB, hotplug: false, boot: GiB);
        Assert.Equal(GiB, MemoryResizePlan.For(shrunk, GiB).BalloonTarget);
        Assert.False(MemoryResizePlan.For(shrunk, GiB).Deferred);
        Assert.True(MemoryResizePlan.For(shrunk, 2 * GiB).Deferred);
    }

    [Fact]
    public void A_size_above_the_hotplug_maximum_is_refused_naming_the_limit()
    {
        var ex = Assert.Throws<VzInvalidArgumentException>(() => MemoryResizePlan.For(Vm(GiB, hotplug: true, max: 4 * GiB), 5 * GiB));
        Assert.Equal("VzMemoryAboveHotplugMax", ex.ErrorId);
        Assert.Contains("at most 4096 MB", ex.Message);
    }

    [Fact]
    public void A_vm_whose_dimm_slots_are_full_cannot_grow_live()
    {
        var full = Vm(GiB + 8 * 128 * MiB, hotplug: true, max: 8 * GiB, dimms: Enumerable.Repeat(128 * MiB, 8).ToArray());
        Assert.Equal("VzMemorySlotsFull", Assert.Throws<VzInvalidStateException>(() => MemoryResizePlan.For(full, 4 * GiB)).ErrorId);
    }

    [Fact]
    public void A_live_shrink_below_the_running_guarantee_is_refused_naming_the_limit()
    {
        // 1 GiB at the VM default of 40 %: 409 MB guaranteed; 300 MB would take the balloon below it.
        var ex = Assert.Throws<VzInvalidArgumentException>(() => MemoryResizePlan.For(Vm(GiB, hotplug: true), 300 * MiB));
        Assert.Equal("VzMemoryBelowGuarantee", ex.ErrorId);
        Assert.Contains("409 MB", ex.Message);
        Assert.Equal(420 * MiB, MemoryResizePlan.For(Vm(GiB, hotplug: true), 420 * MiB).BalloonTarget);
    }
}
