using System.Diagnostics;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Memory;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Network.Adapters;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Monitor;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Service;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// Reads one VE's counters. Files only (the cgroup's cpu, memory and io files, /proc, /sys/class/net), never a
/// process per VE; for a VM's disks one QMP query-blockstats on its monitor when asked, bounded by a timeout.
/// </summary>
public sealed class VeSampler(VzEngine engine)
{
    private readonly int hostCpus = Environment.ProcessorCount;

    /// <summary>A file-only sample: a VM's disk counters are left null (they need the monitor).</summary>
    public VeSample Sample(VeConfig config) =>
        config.Type == VeType.VirtualMachine ? SampleVm(config, out _) : SampleContainer(config);

    /// <summary>
    /// A full sample: for a running VM also query-blockstats and, where the host service's cache is not fresh, the
    /// balloon. A monitor that does not answer within <paramref name="monitorTimeout"/> leaves the disk figures null.
    /// </summary>
    public async Task<VeSample> SampleAsync(VeConfig config, TimeSpan monitorTimeout, CancellationToken cancellationToken)
    {
        if (config.Type != VeType.VirtualMachine) return SampleContainer(config);
        var sample = SampleVm(config, out var rt);
        if (!sample.Running) return sample;
        try
        {
            var (disk, actual, stats) = await ServiceMonitor.RunOnceAsync(rt, config.Name, monitorTimeout, async (mon, ct) =>
            {
                var disk = await mon.QueryBlockStatsAsync(ct);
                long? actual = null;
                Memory.Balloon.GuestMemoryStats? stats = null;
                if (sample.BalloonActual is null)
                {
                    try { actual = await mon.QueryBalloonAsync(ct); stats = await mon.GetBalloonStatsAsync(ct); }
                    catch (QmpException) { } // no balloon device: the memory figures stay what the host sees
                }
                return (disk, actual, stats);
            }, cancellationToken);
            return sample with { Disk = disk, BalloonActual = sample.BalloonActual ?? actual, GuestAvailable = sample.GuestAvailable ?? stats?.Available };
        }
        catch (Exception ex) when (ex is VzException or IOException or InvalidDataException or InvalidOperationException or FormatException)
        {
            // Stopped meanwhile, or a hung monitor: the file figures stand and the caller sees Running as it is now.
            return QemuProcess.Inspect(rt) is { Alive: true } now && now.Pid == sample.ProcessId ? sample : sample with { Running = false };
        }
    }

    /// <summary>
    /// A VE found running by a full sample, read again for a scrape: the counters fresh, its liveness from that sample
    /// (its process still exists), and what needs more than a file read (a VM's disks and balloon) carried over.
    /// </summary>
    public VeSample Refresh(VeConfig config, VeSample last)
    {
        if (!last.Running || last.ProcessId is not { } pid || !Directory.Exists($"/proc/{pid}")) return last with { Running = false };
        var sample = Base(config, true, pid);
        return config.Type == VeType.VirtualMachine
            ? VmCounters(config, pid, sample) with { Disk = last.Disk, BalloonActual = last.BalloonActual, BalloonTarget = last.BalloonTarget, GuestAvailable = last.GuestAvailable }
            : ContainerCounters(config, sample);
    }

    private VeSample SampleContainer(VeConfig config)
    {
        var (running, pid, _) = engine.Containers.Live(config.Id);
        var sample = Base(config, running, running ? pid : null);
        return running ? ContainerCounters(config, sample) : sample;
    }

    private VeSample ContainerCounters(VeConfig config, VeSample sample)
    {
        var placement = engine.Containers.CgroupPlacement;
        if (CgroupUsageReader.Read(placement.Backend, placement.PathOf(config.Id)) is not { } usage) return sample with { Running = false };
        return sample with
        {
            CpuTime = usage.CpuTime,
            MemoryResident = usage.MemoryCurrent,
            Disk = CgroupIoReader.Read(placement.Backend, placement.PathOf(config.Id)),
            Adapters = Traffic(config),
        };
    }

    private VeSample VmCounters(VeConfig config, int pid, VeSample sample)
    {
        var cpu = CgroupUsageReader.Read(engine.Cgroups, engine.Vms.CgroupPlacement.PathOf(config.Id))?.CpuTime ?? TimeSpan.Zero;
        return sample with
        {
            CpuTime = cpu > TimeSpan.Zero ? cpu : ProcCpu.Time(pid),
            MemoryResident = ProcMemory.ResidentBytes(pid) ?? 0,
            Adapters = Traffic(config),
        };
    }

    private VeSample SampleVm(VeConfig config, out VmRuntimePaths rt)
    {
        rt = engine.Vms.RuntimePaths(config.Id);
        var status = QemuProcess.Inspect(rt);
        var sample = Base(config, status.Alive, status.Alive ? status.Pid : null);
        if (!status.Alive || status.Pid is not { } pid) return sample with { Running = false };
        // The service's cache is the balloon's truth while it runs; a stale one (no service) is not shown.
        var live = VmLiveState.Read(rt, pid) is { } l && DateTimeOffset.UtcNow - l.MemoryUpdatedAt < VmLiveState.FreshFor ? l : null;
        return VmCounters(config, pid, sample) with
        {
            BalloonActual = live?.BalloonActual,
            BalloonTarget = live?.BalloonTarget,
            GuestAvailable = live?.GuestAvailable,
        };
    }

    /// <summary>
    /// Every adapter's counters from its host end (a container's veths, a VM's taps): eth0's, then each added one's by
    /// its slot. One with no host end now (host-routed eth0, user-mode networking, not plumbed) is left out.
    /// </summary>
    internal static List<AdapterTraffic> Traffic(VeConfig config, string sysClassNet = NetDeviceReader.SysClassNet)
    {
        var container = config.Type == VeType.Container;
        var result = new List<AdapterTraffic>();
        var firstHost = container ? NetworkSetup.HostInterfaceName(config.Id) : QemuCommandLine.TapName(config.Id);
        if (NetDeviceReader.Read(firstHost, sysClassNet) is { } first) result.Add(new(NetworkAdapterRules.PrimaryName, first));
        foreach (var a in config.NetworkAdapters ?? [])
        {
            var host = container ? AdapterNames.VethHost(config.Id, a.Slot) : AdapterNames.Tap(config.Id, a.Slot);
            if (NetDeviceReader.Read(host, sysClassNet) is { } c) result.Add(new(a.Name, c));
        }
        return result;
    }

    private VeSample Base(VeConfig config, bool running, int? pid) => new()
    {
        Id = config.Id,
        Name = config.Name,
        Kind = config.Type,
        Running = running,
        ProcessId = pid,
        At = DateTimeOffset.UtcNow,
        Timestamp = Stopwatch.GetTimestamp(),
        CpuCapacityPercent = CapacityPercent(config, hostCpus),
        MemorySize = config.Memory.MemorySize,
        MemoryGuarantee = MemoryPlanner.Guarantee(config),
    };

    /// <summary>What a VE may use in percent of one CPU: its limit, else its CPUs (vCPUs for a VM), else the host's.</summary>
    public static int CapacityPercent(VeConfig config, int hostCpus)
    {
        var cpus = Math.Min(config.Cpu.Count ?? hostCpus, hostCpus) * 100;
        return config.Cpu.LimitPercent is > 0 and var limit ? Math.Min(limit, cpus) : cpus;
    }
}
