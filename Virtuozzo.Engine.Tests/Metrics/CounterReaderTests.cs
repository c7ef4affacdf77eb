using Virtuozzo.Engine.Metrics;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Network.Adapters;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Metrics;

/// <summary>The counter files as the kernel writes them: cgroup v2 io.stat, v1 blkio, /proc/PID/stat, /sys/class/net.</summary>
public sealed class CounterReaderTests
{
    [Fact]
    public void Io_stat_sums_every_device_and_ignores_discards()
    {
        var io = CgroupIoReader.ParseIoStat("8:0 rbytes=4096 wbytes=104857600 rios=1 wios=800 dbytes=512 dios=1\n253:0 rbytes=100 wbytes=0 rios=2 wios=0 dbytes=0 dios=0\n");
        Assert.Equal(new IoCounters(4196, 104857600, 3, 800), io);
    }

    [Fact]
    public void Io_stat_of_a_group_that_did_no_io_is_zero()
    {
        Assert.Equal(IoCounters.Zero, CgroupIoReader.ParseIoStat(""));
        Assert.Equal(IoCounters.Zero, CgroupIoReader.ParseIoStat(null));
        Assert.Equal(IoCounters.Zero, CgroupIoReader.ParseIoStat("8:0 rbytes=-1 wbytes=x\n"));
    }

    [Fact]
    public void Blkio_sums_read_and_write_lines_and_skips_the_total_and_other_operations()
    {
        const string text = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 12288\n8:16 Read 1\n8:16 Write 2\nTotal 12291\n";
        Assert.Equal((4097L, 8194L), CgroupIoReader.ParseBlkio(text));
    }

    [Fact]
    public void Proc_stat_cpu_is_utime_plus_stime_even_with_spaces_and_parens_in_the_name()
    {
        // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
        const string stat = "4242 (qemu (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 3 0 1000 0 0";
        Assert.Equal(TimeSpan.FromSeconds(4), ProcCpu.Parse(stat));
        Assert.Equal(TimeSpan.Zero, ProcCpu.Parse("garbage"));
    }

    [Fact]
    public void A_host_end_s_counters_are_turned_round_to_the_ve_s_view()
    {
        using var dir = new TempDirectory();
        var stats = Path.Combine(dir.Path, "vzabc", "statistics");
        Directory.CreateDirectory(stats);
        File.WriteAllText(Path.Combine(stats, "rx_bytes"), "1000\n");   // the host end received what the VE sent
        File.WriteAllText(Path.Combine(stats, "tx_bytes"), "5000\n");
        File.WriteAllText(Path.Combine(stats, "rx_packets"), "10\n");
        File.WriteAllText(Path.Combine(stats, "tx_packets"), "50\n");
        var net = NetDeviceReader.Read("vzabc", dir.Path);
        Assert.Equal(new NetCounters(ReceiveBytes: 5000, TransmitBytes: 1000, ReceivePackets: 50, TransmitPackets: 10), net);
        Assert.Null(NetDeviceReader.Read("absent", dir.Path));
        Assert.Null(NetDeviceReader.Read("../vzabc", dir.Path));
    }

    [Theory]
    [InlineData(VeType.Container)]
    [InlineData(VeType.VirtualMachine)]
    public void A_ves_traffic_is_read_per_adapter_from_each_host_end_it_has(VeType type)
    {
        using var dir = new TempDirectory();
        var config = new VeConfig
        {
            Id = Guid.Parse("3f2a9c1e-5b7d-4e8f-9a01-23456789abcd"), Type = type,
            NetworkAdapters = [new() { Name = "lan", Slot = 1 }, new() { Name = "unplugged", Slot = 2 }, new() { Name = "san", Slot = 7 }],
        };
        void HostEnd(string name, long rxBytes)
        {
            var stats = Directory.CreateDirectory(Path.Combine(dir.Path, name, "statistics")).FullName;
            foreach (var (file, value) in new[] { ("rx_bytes", rxBytes), ("tx_bytes", 0L), ("rx_packets", 1L), ("tx_packets", 0L) })
                File.WriteAllText(Path.Combine(stats, file), $"{value}\n");
        }
        var container = type == VeType.Container;
        HostEnd(container ? NetworkSetup.HostInterfaceName(config.Id) : QemuCommandLine.TapName(config.Id), 100);
        HostEnd(container ? AdapterNames.VethHost(config.Id, 1) : AdapterNames.Tap(config.Id, 1), 20);
        HostEnd(container ? AdapterNames.VethHost(config.Id, 7) : AdapterNames.Tap(config.Id, 7), 3);
        // The other kind's host end of the same slot is not this VE's traffic.
        HostEnd(container ? AdapterNames.Tap(config.Id, 2) : AdapterNames.VethHost(config.Id, 2), 9999);

        var traffic = VeSampler.Traffic(config, dir.Path);
        Assert.Equal([("eth0", 100L), ("lan", 20L), ("san", 3L)], traffic.Select(t => (t.Adapter, t.Counters.TransmitBytes)));
        var sample = new VeSample { Adapters = traffic };
        Assert.Equal(new NetCounters(0, 123, 0, 3), sample.Network);
        Assert.Null(new VeSample().Network);
    }

    [Fact]
    public void Usage_reads_cpu_and_memory_of_a_v1_group_and_nothing_of_a_group_that_went()
    {
        using var dir = new TempDirectory();
        foreach (var c in new[] { "memory", "cpuacct" }) Directory.CreateDirectory(Path.Combine(dir.Path, c, "vz", "ct-1"));
        File.WriteAllText(Path.Combine(dir.Path, "memory", "vz", "ct-1", "memory.usage_in_bytes"), "4194304\n");
        File.WriteAllText(Path.Combine(dir.Path, "cpuacct", "vz", "ct-1", "cpuacct.usage"), "2500000000\n");
        var backend = new Virtuozzo.Engine.Cgroups.V1.CgroupV1Backend(new Dictionary<string, string>
        {
            ["memory"] = Path.Combine(dir.Path, "memory"), ["cpuacct"] = Path.Combine(dir.Path, "cpuacct"),
        }, []);
        Assert.Equal((TimeSpan.FromSeconds(2.5), 4194304L), CgroupUsageReader.Read(backend, "vz/ct-1"));
        Assert.Null(CgroupUsageReader.Read(backend, "vz/ct-2"));
    }

    [Fact]
    public void Usage_reads_cpu_stat_and_memory_current_of_a_v2_group()
    {
        using var dir = new TempDirectory();
        var group = Path.Combine(dir.Path, "vz", "ct-1");
        Directory.CreateDirectory(group);
        File.WriteAllText(Path.Combine(group, "memory.current"), "1048576\n");
        File.WriteAllText(Path.Combine(group, "cpu.stat"), "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\n");
        var backend = new Virtuozzo.Engine.Cgroups.V2.CgroupV2Backend(dir.Path, "vz");
        Assert.Equal((TimeSpan.FromSeconds(3), 1048576L), CgroupUsageReader.Read(backend, "vz/ct-1"));
    }
}
