using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Store;
using Xunit;

namespace Virtuozzo.Engine.Tests.Containers;

public sealed class ContainerConfiguratorTests
{
    private static readonly HostLimits Host = new(CpuCount: 4, MemoryTotal: 8L << 30, CpuMhz: 2000);

    private static VeConfig New() => new() { Name = "ct", Memory = { MemorySize = 512L << 20 }, Container = new ContainerSettings() };

    [Fact]
    public void AppliesEveryGivenValueAndLeavesTheRest()
    {
        var cfg = New();
        cfg.Cpu.Units = 3000;
        ContainerConfigurator.Apply(cfg, new ContainerChanges { MemorySize = 256L << 20, CpuLimit = 150, CpuMask = "3,1", PidsLimit = 100, Hostname = "a.b", IpAddress = ["198.18.0.2/24", "198.18.0.3"] }, Host);
        Assert.Equal(256L << 20, cfg.Memory.MemorySize);
        Assert.Equal(3000, cfg.Cpu.Units);
        Assert.Equal(150, cfg.Cpu.LimitPercent);
        Assert.Equal("1,3", cfg.Cpu.Mask);
        Assert.Equal(100, cfg.Container!.PidsLimit);
        Assert.Equal("a.b", cfg.Container.Hostname);
        Assert.Equal(["198.18.0.2/24", "198.18.0.3/32"], cfg.Container.Network.IpAddresses);
    }

    [Fact]
    public void ZeroRemovesLimitsAndAllClearsTheMask()
    {
        var cfg = New();
        ContainerConfigurator.Apply(cfg, new ContainerChanges { CpuLimit = 50, CpuMask = "0", PidsLimit = 10 }, Host);
        ContainerConfigurator.Apply(cfg, new ContainerChanges { CpuLimit = 0, CpuMask = "all", PidsLimit = 0 }, Host);
        Assert.Null(cfg.Cpu.LimitPercent);
        Assert.Null(cfg.Cpu.Mask);
        Assert.Null(cfg.Container!.PidsLimit);
        var limits = ContainerConfigurator.ToLimits(cfg, 4);
        Assert.Equal(-1, limits.CpuQuotaMicroseconds);
        Assert.Equal(-1, limits.PidsLimit);
        Assert.Equal("0-3", limits.CpuSet);
    }

    [Fact]
    public void MhzIsStoredAsGivenAndBecomesAQuotaOfOneCpu()
    {
        var cfg = New();
        ContainerConfigurator.Apply(cfg, new ContainerChanges { CpuLimitMhz = 1000 }, Host);
        Assert.Equal(1000, cfg.Cpu.LimitMhz);
        Assert.Null(cfg.Cpu.LimitPercent);
        Assert.Equal(50000, ContainerConfigurator.ToLimits(cfg, 4, hostMhz: Host.CpuMhz).CpuQuotaMicroseconds);
        // A percentage replaces the MHz limit (one unit at a time), and 0 in either unit removes it.
        ContainerConfigurator.Apply(cfg, new ContainerChanges { CpuLimit = 30 }, Host);
        Assert.Equal((30, (int?)null), (cfg.Cpu.LimitPercent!.Value, cfg.Cpu.LimitMhz));
        ContainerConfigurator.Apply(cfg, new ContainerChanges { CpuLimit = 0, CpuLimitMhz = 700 }, Host);
        Assert.Equal(((int?)null, 700), (cfg.Cpu.LimitPercent, cfg.Cpu.LimitMhz!.Value));
        ContainerConfigurator.Apply(cfg, new ContainerChanges { CpuLimitMhz = 0 }, Host);
        Assert.Equal(((int?)null, (int?)null), (cfg.Cpu.LimitPercent, cfg.Cpu.LimitMhz));
    }

    [Fact]
    public void CpuCountCapsTheQuota()
    {
        var cfg = New();
        ContainerConfigurator.Apply(cfg, new ContainerChanges { CpuCount = 2 }, Host);
        Assert.Equal(200000, ContainerConfigurator.ToLimits(cfg, 4).CpuQuotaMicroseconds);
        ContainerConfigurator.Apply(cfg, new ContainerChanges { CpuLimit = 50 }, Host);
        Assert.Equal(50000, ContainerConfigurator.ToLimits(cfg, 4).CpuQuotaMicroseconds);
    }

    [Fact]
    public void GuaranteeAndSwapBecomeLowAndMemsw()
    {
        var cfg = New();
        ContainerConfigurator.Apply(cfg, new ContainerChanges { MemorySize = 1L << 30, SwapSize = 512L << 20, MemGuarantee = 25 }, Host);
        var l = ContainerConfigurator.ToLimits(cfg, 4);
        Assert.Equal(1L << 30, l.MemorySize);
        Assert.Equal((1L << 30) + (512L << 20), l.MemorySwapLimit);
        Assert.Equal(256L << 20, l.MemoryLow);
        Assert.Equal(1000, l.CpuUnits);
    }

    [Fact]
    public void SwapWithoutSwapAccountingIsReportedNotSilent()
    {
        var cfg = New();
        ContainerConfigurator.Apply(cfg, new ContainerChanges { SwapSize = 256L << 20 }, Host);
        Assert.Empty(ContainerConfigurator.Unapplied(cfg, swapAccounting: true));
        Assert.Contains("SwapSize 256 MB is stored but not enforced", Assert.Single(ContainerConfigurator.Unapplied(cfg, swapAccounting: false)));
        ContainerConfigurator.Apply(cfg, new ContainerChanges { SwapSize = 0 }, Host);
        Assert.Empty(ContainerConfigurator.Unapplied(cfg, swapAccounting: false));
    }

    public static TheoryData<ContainerChanges, string, string> Bad => new()
    {
        { new ContainerChanges { MemorySize = 0 }, "VzInvalidMemorySize", "MemorySize" },
        { new ContainerChanges { MemorySize = 9L << 30 }, "VzInvalidMemorySize", "MemorySize" },
        { new ContainerChanges { SwapSize = -1 }, "VzInvalidSwapSize", "SwapSize" },
        { new ContainerChanges { MemGuarantee = 101 }, "VzInvalidMemGuarantee", "MemGuarantee" },
        { new ContainerChanges { CpuCount = 5 }, "VzInvalidCpuCount", "CpuCount" },
        { new ContainerChanges { CpuUnits = 7 }, "VzInvalidCpuUnits", "CpuUnits" },
        { new ContainerChanges { CpuUnits = 500001 }, "VzInvalidCpuUnits", "CpuUnits" },
        { new ContainerChanges { CpuLimit = 401 }, "VzInvalidCpuLimit", "CpuLimit" },
        { new ContainerChanges { CpuLimit = 10, CpuLimitMhz = 10 }, "VzConflictingCpuLimit", "CpuLimitMhz" },
        { new ContainerChanges { CpuLimitMhz = 8001 }, "VzInvalidCpuLimit", "CpuLimitMhz" },
        { new ContainerChanges { CpuLimitMhz = -1 }, "VzInvalidCpuLimit", "CpuLimitMhz" },
        { new ContainerChanges { CpuMask = "4" }, "VzInvalidCpuMask", "CpuMask" },
        { new ContainerChanges { PidsLimit = -2 }, "VzInvalidPidsLimit", "PidsLimit" },
        { new ContainerChanges { Hostname = "bad_host" }, "VzInvalidHostname", "Hostname" },
        { new ContainerChanges { Nameserver = ["dns.example"] }, "VzInvalidNameserver", "Nameserver" },
        { new ContainerChanges { IpAddress = ["198.18.0.256/24"] }, "VzInvalidIpAddress", "IpAddress" },
        { new ContainerChanges { IpAddress = ["198.18.0.2/0"] }, "VzInvalidIpAddress", "IpAddress" },
        { new ContainerChanges { Bridge = "this-name-is-too-long" }, "VzInvalidInterfaceName", "Bridge" },
        { new ContainerChanges { Gateway = "x" }, "VzInvalidGateway", "Gateway" },
    };

    [Theory]
    [MemberData(nameof(Bad))]
    public void BadValuesAreTypedErrorsNamingTheParameter(ContainerChanges changes, string errorId, string parameter)
    {
        var cfg = New();
        var before = Yaml.Serializer.Serialize(cfg);
        var ex = Assert.Throws<VzInvalidArgumentException>(() => ContainerConfigurator.Apply(cfg, changes, Host));
        Assert.Equal(errorId, ex.ErrorId);
        Assert.Equal(parameter, ex.ParameterName);
        Assert.NotNull(ex.RecommendedAction);
        _ = before; // the config object may be half-changed; callers always apply to a copy they throw away
    }

    [Fact]
    public void IdRangesDoNotOverlap()
    {
        VeRecord Rec(long b) => new(Guid.NewGuid(), "/x", new VeConfig { Container = new ContainerSettings { UidBase = b } }, VeRegistrationState.Ready, null);
        Assert.Equal(IdRangeAllocator.FirstBase, IdRangeAllocator.Next([]));
        Assert.Equal(IdRangeAllocator.FirstBase + 65536, IdRangeAllocator.Next([Rec(IdRangeAllocator.FirstBase)]));
        Assert.Equal(IdRangeAllocator.FirstBase + 65536, IdRangeAllocator.Next([Rec(IdRangeAllocator.FirstBase), Rec(IdRangeAllocator.FirstBase + 2 * 65536)]));
    }

    [Theory]
    [InlineData(0u, 0L, 1000000L, 1000000u)]
    [InlineData(33u, 0L, 1000000L, 1000033u)]
    [InlineData(1000033u, 1000000L, 2000000L, 2000033u)]
    [InlineData(5u, 1000000L, 2000000L, 2000000u)] // outside the source range: becomes the new root, never a host id
    public void OwnershipShiftKeepsOffsets(uint id, long from, long to, uint expected) =>
        Assert.Equal(expected, OwnershipShifter.Map(id, from, to, 65536));
}
