using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Ksm;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// Renders the exposition: per VE counters (labels name, id, kind; network counters also interface, one sample per
/// adapter, so <c>sum by (name)</c> gives the VE's traffic as before adapters existed), host totals, and the memory manager's state
/// (balloon targets, memory given back by ballooning, KSM savings). Pure over its inputs: the service hands in
/// samples it read, so a scrape costs file reads for the running VEs only.
/// </summary>
public static class MetricsCollector
{
    public sealed record HostFigures(MemInfo Memory, double? MemoryPressureSomeAvg10, int Cpus, KsmStatus? Ksm);

    public static string Render(IReadOnlyList<VeConfig> registered, IReadOnlyList<VeSample> running, HostFigures host)
    {
        var p = new PrometheusText();
        var up = running.Where(s => s.Running).ToList();
        static (string, string)[] L(VeSample s) => [("name", s.Name), ("id", s.Id.ToString()), ("kind", Kind(s.Kind))];

        p.Family("vz_ve_up", "gauge", "1 when the VE runs, 0 when it is registered and stopped.");
        var upIds = up.Select(s => s.Id).ToHashSet();
        foreach (var c in registered)
            p.Sample("vz_ve_up", upIds.Contains(c.Id) ? 1 : 0, ("name", c.Name), ("id", c.Id.ToString()), ("kind", Kind(c.Type)));

        void Counter(string name, string help, Func<VeSample, double?> value, string type = "counter")
        {
            var rows = up.Select(s => (s, v: value(s))).Where(r => r.v is not null).ToList();
            if (rows.Count == 0) return;
            p.Family(name, type, help);
            foreach (var (s, v) in rows) p.Sample(name, v!.Value, L(s));
        }
        Counter("vz_ve_cpu_seconds_total", "CPU time used by the VE's processes since it started (its cgroup's usage).", s => s.CpuTime.TotalSeconds);
        Counter("vz_ve_cpu_capacity_cpus", "CPUs the VE may use: its CPU limit, else its CPU count.", s => s.CpuCapacityPercent / 100.0, "gauge");
        Counter("vz_ve_memory_resident_bytes", "Host memory the VE holds: a container's cgroup charge, a VM's QEMU resident set.", s => s.MemoryResident, "gauge");
        Counter("vz_ve_memory_size_bytes", "The VE's memory size.", s => s.MemorySize, "gauge");
        Counter("vz_ve_memory_guarantee_bytes", "The VE's memory guarantee.", s => s.MemoryGuarantee, "gauge");
        Counter("vz_ve_disk_read_bytes_total", "Bytes the VE read from its disks since it started.", s => s.Disk?.ReadBytes);
        Counter("vz_ve_disk_written_bytes_total", "Bytes the VE wrote to its disks since it started.", s => s.Disk?.WriteBytes);
        Counter("vz_ve_disk_reads_completed_total", "Read operations of the VE's disks since it started.", s => s.Disk?.ReadOps);
        Counter("vz_ve_disk_writes_completed_total", "Write operations of the VE's disks since it started.", s => s.Disk?.WriteOps);
        void PerAdapter(string name, string help, Func<NetCounters, long> value)
        {
            if (!up.Any(s => s.Adapters.Count > 0)) return;
            p.Family(name, "counter", help);
            foreach (var s in up)
                foreach (var a in s.Adapters) p.Sample(name, value(a.Counters), [.. L(s), ("interface", a.Adapter)]);
        }
        PerAdapter("vz_ve_network_receive_bytes_total", "Bytes the VE received on an adapter (interface: eth0 or an added one's name) since it was plumbed.", n => n.ReceiveBytes);
        PerAdapter("vz_ve_network_transmit_bytes_total", "Bytes the VE sent on an adapter since it was plumbed.", n => n.TransmitBytes);
        PerAdapter("vz_ve_network_receive_packets_total", "Packets the VE received on an adapter since it was plumbed.", n => n.ReceivePackets);
        PerAdapter("vz_ve_network_transmit_packets_total", "Packets the VE sent on an adapter since it was plumbed.", n => n.TransmitPackets);
        Counter("vz_vm_balloon_actual_bytes", "Memory the guest has now (RAM less the inflated balloon).", s => s.BalloonActual, "gauge");
        Counter("vz_vm_balloon_target_bytes", "The memory manager's last balloon target for the VM.", s => s.BalloonTarget, "gauge");
        Counter("vz_vm_guest_available_bytes", "Available memory the guest reports through the balloon statistics.", s => s.GuestAvailable, "gauge");

        p.Family("vz_host_ves", "gauge", "Registered VEs by kind and state.");
        foreach (var kind in new[] { VeType.Container, VeType.VirtualMachine })
        {
            var all = registered.Count(c => c.Type == kind);
            var run = up.Count(s => s.Kind == kind);
            p.Sample("vz_host_ves", run, ("kind", Kind(kind)), ("state", "running"));
            p.Sample("vz_host_ves", all - run, ("kind", Kind(kind)), ("state", "stopped"));
        }
        p.Family("vz_host_cpus", "gauge", "CPUs of the host.").Sample("vz_host_cpus", host.Cpus);
        p.Family("vz_host_memory_total_bytes", "gauge", "Memory of the host (MemTotal).").Sample("vz_host_memory_total_bytes", host.Memory.Total);
        p.Family("vz_host_memory_available_bytes", "gauge", "Memory available on the host (MemAvailable).").Sample("vz_host_memory_available_bytes", host.Memory.Available);
        if (host.MemoryPressureSomeAvg10 is { } psi)
            p.Family("vz_host_memory_pressure_some_ratio", "gauge", "Share of the last 10 s some task waited on memory (PSI some avg10).").Sample("vz_host_memory_pressure_some_ratio", psi / 100);
        p.Family("vz_host_ve_memory_resident_bytes", "gauge", "Host memory held by all running VEs.").Sample("vz_host_ve_memory_resident_bytes", up.Sum(s => (double)s.MemoryResident));
        p.Family("vz_memory_balloon_given_back_bytes", "gauge", "Memory the running VMs' balloons hold back from their guests (size less balloon actual), summed.")
            .Sample("vz_memory_balloon_given_back_bytes", up.Where(s => s.BalloonActual is not null).Sum(s => (double)Math.Max(0, s.MemorySize - s.BalloonActual!.Value)));
        if (host.Ksm is { Available: true } ksm)
        {
            p.Family("vz_ksm_running", "gauge", "1 while KSM merges pages.").Sample("vz_ksm_running", ksm.Enabled ? 1 : 0);
            p.Family("vz_ksm_saved_bytes", "gauge", "Memory KSM saves now (pages_sharing times the page size).").Sample("vz_ksm_saved_bytes", ksm.SavedBytes);
            p.Family("vz_ksm_pages_shared", "gauge", "Distinct merged pages in use.").Sample("vz_ksm_pages_shared", ksm.PagesShared);
            p.Family("vz_ksm_full_scans_total", "counter", "Full scans KSM completed since the host booted.").Sample("vz_ksm_full_scans_total", ksm.FullScans);
        }
        return p.ToString();
    }

    public static string Kind(VeType type) => type == VeType.VirtualMachine ? "vm" : "container";
}
