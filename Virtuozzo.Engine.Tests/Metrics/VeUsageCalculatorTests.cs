using System.Diagnostics;
using Virtuozzo.Engine.Metrics;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Metrics;

/// <summary>Rates from two samples: per second over the real interval, CPU per one CPU and per the VE's limit.</summary>
public sealed class VeUsageCalculatorTests
{
    private static VeSample At(double seconds, double cpuSeconds, IoCounters? disk = null, NetCounters? net = null, int capacity = 200) => new()
    {
        Id = Guid.Parse("6b1f8a52-8f0e-4d7e-9a55-0a0b0c0d0e0f"), Name = "web1", Kind = VeType.Container, Running = true, ProcessId = 42,
        Timestamp = (long)(seconds * Stopwatch.Frequency), At = DateTimeOffset.UnixEpoch.AddSeconds(seconds),
        CpuTime = TimeSpan.FromSeconds(cpuSeconds), CpuCapacityPercent = capacity, MemoryResident = 64 << 20, MemorySize = 128 << 20,
        Disk = disk, Adapters = net is null ? [] : [new("eth0", net)],
    };

    [Fact]
    public void A_busy_loop_on_one_cpu_is_100_percent_of_one_cpu_and_50_of_two()
    {
        var u = VeUsageCalculator.Between(At(10, 1), At(13, 4));
        Assert.Equal(100, u.CpuPercent);
        Assert.Equal(50, u.CpuPercentOfLimit);
        Assert.Equal(TimeSpan.FromSeconds(3), u.Interval);
        Assert.Equal(TimeSpan.FromSeconds(4), u.CpuTime);
        Assert.Equal("Container", u.Kind);
    }

    [Fact]
    public void Under_a_25_percent_limit_a_quarter_cpu_is_all_of_the_limit()
    {
        var u = VeUsageCalculator.Between(At(0, 0, capacity: 25), At(4, 1, capacity: 25));
        Assert.Equal(25, u.CpuPercent);
        Assert.Equal(100, u.CpuPercentOfLimit);
    }

    [Fact]
    public void Disk_and_network_rates_are_per_second_and_totals_are_since_start()
    {
        var u = VeUsageCalculator.Between(
            At(0, 0, new IoCounters(0, 10 << 20, 0, 10), new NetCounters(1000, 2000, 10, 20)),
            At(2, 0, new IoCounters(4096, 110 << 20, 1, 810), new NetCounters(3000, 2000, 30, 20)));
        Assert.Equal(50 << 20, u.DiskWriteBytesPerSecond);
        Assert.Equal(2048, u.DiskReadBytesPerSecond);
        Assert.Equal(400, u.DiskWriteOpsPerSecond);
        Assert.Equal(1000, u.NetworkReceiveBytesPerSecond);
        Assert.Equal(10, u.NetworkReceivePacketsPerSecond);
        Assert.Equal(0, u.NetworkTransmitPacketsPerSecond);
        Assert.Equal(110L << 20, u.DiskWriteBytes);
        Assert.Equal(30, u.NetworkReceivePackets);
    }

    [Fact]
    public void Network_figures_are_the_sum_of_every_adapter_and_one_added_meanwhile_is_no_burst()
    {
        var before = At(0, 0) with { Adapters = [new("eth0", new NetCounters(1000, 0, 10, 0)), new("eth1", new NetCounters(0, 500, 0, 5))] };
        var after = At(2, 0) with
        {
            Adapters = [new("eth0", new NetCounters(3000, 0, 30, 0)), new("eth1", new NetCounters(0, 4500, 0, 45)), new("eth2", new NetCounters(1_000_000, 0, 900, 0))],
        };
        var u = VeUsageCalculator.Between(before, after);
        Assert.Equal(1000, u.NetworkReceiveBytesPerSecond);      // eth0's 2000 B over 2 s; eth2 was not there before
        Assert.Equal(2000, u.NetworkTransmitBytesPerSecond);     // eth1's 4000 B over 2 s
        Assert.Equal(20, u.NetworkTransmitPacketsPerSecond);
        Assert.Equal(1_003_000, u.NetworkReceiveBytes);          // totals count every adapter now
        Assert.Equal(4500, u.NetworkTransmitBytes);
        Assert.Equal(930, u.NetworkReceivePackets);
    }

    [Fact]
    public void A_counter_that_went_down_gives_no_negative_rate()
    {
        var u = VeUsageCalculator.Between(At(0, 5, new IoCounters(100, 100, 1, 1)), At(1, 4, new IoCounters(0, 0, 0, 0)));
        Assert.Equal(0, u.CpuPercent);
        Assert.Equal(0, u.DiskReadBytesPerSecond);
    }

    [Fact]
    public void A_sample_without_disk_figures_counts_no_disk_traffic()
    {
        var u = VeUsageCalculator.Between(At(0, 0, null), At(1, 0, new IoCounters(100, 100, 1, 1)));
        Assert.Equal(0, u.DiskWriteBytesPerSecond);
        Assert.Equal(100, u.DiskWriteBytes);
    }

    [Theory]
    [InlineData(null, null, 2, 200)]
    [InlineData(null, 1, 2, 100)]
    [InlineData(25, null, 2, 25)]
    [InlineData(300, 4, 2, 200)]
    [InlineData(150, 4, 8, 150)]
    public void Capacity_is_the_limit_else_the_cpus_never_more_than_the_host(int? limit, int? count, int hostCpus, int expected)
    {
        var config = new VeConfig { Name = "x", Type = VeType.Container, Cpu = new CpuSettings { LimitPercent = limit, Count = count } };
        Assert.Equal(expected, VeSampler.CapacityPercent(config, hostCpus));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    [InlineData(86401)]
    public void An_interval_of_zero_or_less_is_a_typed_error(double seconds)
    {
        var ex = Assert.Throws<Errors.VzInvalidArgumentException>(() => VeMeter.CheckInterval(seconds));
        Assert.Equal("VzInvalidInterval", ex.ErrorId);
        Assert.Equal("Interval", ex.ParameterName);
    }

    [Fact]
    public void A_fractional_interval_is_fine()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(500), VeMeter.CheckInterval(0.5));
    }
}
