using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Ksm;
using Virtuozzo.Engine.Metrics;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Metrics;

/// <summary>The exposition format: escaping, one HELP/TYPE per family, families whole, labels on every VE sample.</summary>
public sealed class PrometheusTextTests
{
    [Fact]
    public void Label_values_escape_backslash_quote_and_newline()
    {
        var text = new PrometheusText().Family("vz_x", "gauge", "A test.").Sample("vz_x", 1.5, ("name", "a\"b\\c\nd")).ToString();
        Assert.Equal("# HELP vz_x A test.\n# TYPE vz_x gauge\nvz_x{name=\"a\\\"b\\\\c\\nd\"} 1.5\n", text);
    }

    [Fact]
    public void A_family_cannot_be_written_twice()
    {
        var p = new PrometheusText().Family("vz_x", "gauge", "x");
        Assert.Throws<InvalidOperationException>(() => p.Family("vz_x", "gauge", "x"));
    }

    [Theory]
    [InlineData(1e21, "1E+21")]
    [InlineData(0.25, "0.25")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    public void Numbers_use_the_invariant_culture(double value, string expected) => Assert.Equal(expected, PrometheusText.Format(value));

    private static VeConfig Config(string name, VeType type) => new() { Id = Guid.NewGuid(), Name = name, Type = type };

    [Fact]
    public void A_scrape_has_every_registered_ve_up_or_down_and_counters_for_the_running_ones_only()
    {
        var ct = Config("web1", VeType.Container);
        var stopped = Config("old", VeType.Container);
        var vm = Config("db1", VeType.VirtualMachine);
        var running = new List<VeSample>
        {
            new() { Id = ct.Id, Name = "web1", Kind = VeType.Container, Running = true, CpuTime = TimeSpan.FromSeconds(12.5), CpuCapacityPercent = 25,
                    MemoryResident = 1 << 20, Adapters = [new("eth0", new NetCounters(10, 20, 1, 2)), new("eth1", new NetCounters(300, 400, 3, 4))], Disk = new IoCounters(0, 4096, 0, 1) },
            new() { Id = vm.Id, Name = "db1", Kind = VeType.VirtualMachine, Running = true, CpuTime = TimeSpan.FromSeconds(3), CpuCapacityPercent = 100,
                    MemorySize = 1 << 30, BalloonActual = 768 << 20, BalloonTarget = 768 << 20, Disk = new IoCounters(1, 2, 3, 4) },
        };
        var host = new MetricsCollector.HostFigures(new MemInfo(8L << 30, 6L << 30, 5L << 30), 1.5, 4, new KsmStatus { Available = true, SavedBytes = 4096, Run = KsmRunMode.Running });
        var text = MetricsCollector.Render([ct, stopped, vm], running, host);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Contains($"vz_ve_up{{name=\"old\",id=\"{stopped.Id}\",kind=\"container\"}} 0", lines);
        Assert.Contains($"vz_ve_up{{name=\"web1\",id=\"{ct.Id}\",kind=\"container\"}} 1", lines);
        Assert.Contains($"vz_ve_cpu_seconds_total{{name=\"web1\",id=\"{ct.Id}\",kind=\"container\"}} 12.5", lines);
        Assert.Contains($"vz_ve_cpu_capacity_cpus{{name=\"web1\",id=\"{ct.Id}\",kind=\"container\"}} 0.25", lines);
        Assert.Contains($"vz_ve_disk_written_bytes_total{{name=\"db1\",id=\"{vm.Id}\",kind=\"vm\"}} 2", lines);
        Assert.Contains($"vz_vm_balloon_target_bytes{{name=\"db1\",id=\"{vm.Id}\",kind=\"vm\"}} {768 << 20}", lines);
        Assert.Contains($"vz_memory_balloon_given_back_bytes {256 << 20}", lines);
        Assert.Contains("vz_host_ves{kind=\"container\",state=\"stopped\"} 1", lines);
        Assert.Contains("vz_ksm_saved_bytes 4096", lines);
        Assert.Contains("vz_host_memory_pressure_some_ratio 0.015", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("vz_ve_cpu_seconds_total{name=\"old\"", StringComparison.Ordinal));
        // One sample per adapter, the adapter's name in the interface label, the family name as before adapters existed.
        Assert.Contains($"vz_ve_network_receive_bytes_total{{name=\"web1\",id=\"{ct.Id}\",kind=\"container\",interface=\"eth0\"}} 10", lines);
        Assert.Contains($"vz_ve_network_receive_bytes_total{{name=\"web1\",id=\"{ct.Id}\",kind=\"container\",interface=\"eth1\"}} 300", lines);
        Assert.Contains($"vz_ve_network_transmit_packets_total{{name=\"web1\",id=\"{ct.Id}\",kind=\"container\",interface=\"eth1\"}} 4", lines);
        Assert.Single(lines, l => l == "# TYPE vz_ve_network_receive_bytes_total counter");
        // A VE without a network interface has no network sample rather than a zero.
        Assert.DoesNotContain(lines, l => l.StartsWith("vz_ve_network_receive_bytes_total{name=\"db1\"", StringComparison.Ordinal));

        // Every sample line belongs to the family declared just before it (families are contiguous).
        string? family = null;
        foreach (var line in lines)
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal)) { family = line.Split(' ')[2]; continue; }
            if (line.StartsWith('#')) continue;
            var name = line.Split('{', ' ')[0];
            Assert.Equal(family, name);
        }
        // Counters end in _total, byte figures in _bytes (or _bytes_total).
        foreach (var type in lines.Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')))
            if (type[3] == "counter") Assert.EndsWith("_total", type[2]);
    }
}
