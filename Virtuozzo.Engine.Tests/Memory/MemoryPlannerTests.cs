using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Memory;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Memory;

public sealed class MemoryPlannerTests
{
    private const long GiB = 1L << 30, MiB = 1L << 20;

    private static VeConfig Vm(string name, long size, int? guarantee = null) => new()
    {
        Id = Guid.NewGuid(), Name = name, Type = VeType.VirtualMachine, Vm = new VmSettings(),
        Memory = new MemorySettings { MemorySize = size, GuaranteePercent = guarantee },
    };

    private static VeConfig Ct(string name, long size, int? guarantee = null) => new()
    {
        Id = Guid.NewGuid(), Name = name, Type = VeType.Container, Container = new ContainerSettings { Template = "busybox" },
        Memory = new MemorySettings { MemorySize = size, GuaranteePercent = guarantee },
    };

    [Fact]
    public void Default_guarantees_are_40_percent_for_vms_and_0_for_containers()
    {
        Assert.Equal(40, MemoryPlanner.EffectiveGuaranteePercent(Vm("v", GiB)));
        Assert.Equal(0, MemoryPlanner.EffectiveGuaranteePercent(Ct("c", GiB)));
        Assert.Equal(GiB * 40 / 100, MemoryPlanner.Guarantee(Vm("v", GiB)));
    }

    [Fact]
    public void Vm_overhead_is_64_MiB_plus_8_bytes_per_page()
    {
        // 1 GiB = 262144 pages -> 2 MiB of page tables.
        Assert.Equal(64 * MiB + 2 * MiB, MemoryPlanner.Overhead(Vm("v", GiB)));
        Assert.Equal(0, MemoryPlanner.Overhead(Ct("c", GiB)));
    }

    [Fact]
    public void Admission_refuses_a_guarantee_that_does_not_fit_beside_running_ves()
    {
        var running = Vm("big", 16 * GiB, guarantee: 100);
        var candidate = Vm("next", 8 * GiB, guarantee: 100);
        var ex = Assert.Throws<VzInsufficientResourcesException>(() =>
            MemoryPlanner.Admit(candidate, [(running, VeActivity.Running)], 20 * GiB));
        Assert.Equal("VzGuaranteeUnavailable", ex.ErrorId);
        Assert.Contains("next", ex.Message);
        // A stopped VE holds nothing, so the same candidate fits beside it.
        MemoryPlanner.Admit(candidate, [(running, VeActivity.Stopped)], 20 * GiB);
    }

    [Fact]
    public void Admission_ignores_the_candidates_own_entry_when_its_guarantee_changes()
    {
        var vm = Vm("self", 8 * GiB, guarantee: 100);
        MemoryPlanner.Admit(vm, [(vm, VeActivity.Running)], 10 * GiB);
    }

    [Fact]
    public void Targets_are_the_limits_when_everything_fits()
    {
        var plan = MemoryPlanner.Plan([(Vm("a", GiB), VeActivity.Running), (Ct("b", 512 * MiB), VeActivity.Running)], 24 * GiB, 20 * GiB);
        Assert.All(plan.Entries, e => Assert.Equal(e.MemorySize, e.Target));
        Assert.True(plan.OvercommitRatio < 1);
        Assert.Equal(2, plan.ActiveVeCount);
    }

    [Fact]
    public void Overcommitted_targets_sit_between_guarantee_and_limit_and_fill_what_is_available()
    {
        var ves = new[] { (Vm("a", 8 * GiB), VeActivity.Running), (Vm("b", 8 * GiB), VeActivity.Running), (Ct("c", 8 * GiB), VeActivity.Running) };
        var plan = MemoryPlanner.Plan(ves, 16 * GiB, 8 * GiB);
        Assert.True(plan.OvercommitRatio > 1);
        foreach (var e in plan.Entries)
        {
            Assert.InRange(e.Target, e.Guarantee, e.MemorySize);
        }
        var sum = plan.Entries.Sum(e => e.Target);
        Assert.InRange(sum, plan.AvailableForVes - 16, plan.AvailableForVes);
    }

    [Fact]
    public void Stopped_ves_are_listed_but_hold_no_target_or_guarantee_in_the_totals()
    {
        var plan = MemoryPlanner.Plan([(Vm("off", 4 * GiB), VeActivity.Stopped)], 24 * GiB, 20 * GiB);
        var e = Assert.Single(plan.Entries);
        Assert.Equal(0, e.Target);
        Assert.Equal(0, plan.GuaranteedMemory);
        Assert.Equal(0, plan.ActiveVeCount);
    }

    [Fact]
    public void Reserves_follow_vcmmd_clamps()
    {
        Assert.Equal(128 * MiB, MemoryDefaults.HostReserve(1 * GiB));
        Assert.Equal(320 * MiB, MemoryDefaults.HostReserve(64 * GiB));
        Assert.Equal(32 * MiB, MemoryDefaults.UserReserve(1 * GiB));
        Assert.Equal(128 * MiB, MemoryDefaults.UserReserve(64 * GiB));
    }
}
