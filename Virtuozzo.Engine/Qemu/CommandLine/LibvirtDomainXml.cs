using System.Xml.Linq;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu.CommandLine;

/// <summary>
/// Describes a VM as a libvirt domain, so it can be moved to (or compared with) a libvirt host: the same machine,
/// firmware, vCPUs with pinning and CPU tuning, memory with hotplug slots and the guarantee as a soft limit, disks,
/// DVD drives, NICs (the first and every added adapter), serial log, guest agent channel and balloon. Pure: no I/O.
/// </summary>
public static class LibvirtDomainXml
{
    /// <summary>The domain XML of <paramref name="config"/>; <paramref name="resolvePath"/> makes a disk path absolute,
    /// <paramref name="bridgeOf"/> names a virtual network's bridge for the added adapters (and throws for one that is gone).</summary>
    public static string Build(VeConfig config, VmRuntimePaths paths, Accelerator accelerator, Func<string, string> resolvePath, Func<string, string> bridgeOf)
    {
        var vm = config.Vm ?? throw new ArgumentException("Not a VM config.", nameof(config));
        var kib = config.Memory.MemorySize / 1024;
        var cpus = config.Cpu.Count ?? 1;
        var q35 = vm.Machine != "pc";

        var os = new XElement("os",
            new XElement("type", new XAttribute("arch", "x86_64"), new XAttribute("machine", q35 ? "q35" : "pc"), "hvm"));
        if (vm.Firmware == VmFirmware.Efi)
        {
            os.Add(new XElement("loader", new XAttribute("readonly", "yes"), new XAttribute("type", "pflash"), QemuCommandLine.OvmfCode));
            os.Add(new XElement("nvram", new XAttribute("template", QemuCommandLine.OvmfVarsTemplate), paths.EfiVars));
        }
        if (vm.KernelPath is { Length: > 0 } kernel)
        {
            os.Add(new XElement("kernel", resolvePath(kernel)));
            if (vm.InitrdPath is { Length: > 0 } initrd) os.Add(new XElement("initrd", resolvePath(initrd)));
            if (vm.KernelArguments is { Length: > 0 } append) os.Add(new XElement("cmdline", append));
        }

        var cputune = new XElement("cputune",
            new XElement("shares", Cgroups.CgroupUnits.SharesFromUnits(config.Cpu.Units)));
        // A MHz limit is exported as the quota it has on this host (libvirt has no MHz unit).
        if (Cgroups.CpuLimit.QuotaMicroseconds(config.Cpu, config.Cpu.LimitMhz is > 0 ? Host.CpuInfo.NominalMhz() : 0) is { } quota)
        {
            cputune.Add(new XElement("period", Cgroups.CgroupUnits.DefaultCfsPeriod));
            cputune.Add(new XElement("quota", quota));
        }
        if (config.Cpu.Mask is { Length: > 0 } mask)
            for (var i = 0; i < cpus; i++) cputune.Add(new XElement("vcpupin", new XAttribute("vcpu", i), new XAttribute("cpuset", mask)));
        // libvirt orders cputune children: vcpupin comes before period/quota in its schema's interleave, so any order validates.

        var cpu = new XElement("cpu", new XAttribute("mode", accelerator == Accelerator.Kvm ? "host-passthrough" : "maximum"));
        var hotplug = vm.MemHotplug && vm.MaxMemorySize > config.Memory.MemorySize;
        if (hotplug)
            // libvirt requires a NUMA node for memory hotplug; one node holding every vCPU and the base RAM.
            cpu.Add(new XElement("numa", new XElement("cell", new XAttribute("id", 0), new XAttribute("cpus", cpus == 1 ? "0" : $"0-{cpus - 1}"),
                new XAttribute("memory", (config.Memory.MemorySize - vm.Dimms.Sum(d => d.Size)) / 1024), new XAttribute("unit", "KiB"))));

        var devices = new XElement("devices", new XElement("emulator", "/usr/bin/qemu-system-x86_64"));
        var order = 1;
        var letter = 0;
        foreach (var d in vm.Disks)
            devices.Add(new XElement("disk", new XAttribute("type", "file"), new XAttribute("device", "disk"),
                new XElement("driver", new XAttribute("name", "qemu"), new XAttribute("type", d.Format)),
                new XElement("source", new XAttribute("file", resolvePath(d.Path))),
                new XElement("target", new XAttribute("dev", "vd" + (char)('a' + letter++)), new XAttribute("bus", "virtio")),
                new XElement("alias", new XAttribute("name", "ua-" + d.Id)),
                new XElement("boot", new XAttribute("order", order++))));
        var cd = 0;
        foreach (var dvd in vm.DvdDrives)
        {
            var e = new XElement("disk", new XAttribute("type", "file"), new XAttribute("device", "cdrom"),
                new XElement("driver", new XAttribute("name", "qemu"), new XAttribute("type", "raw")));
            if (dvd.IsoPath is { Length: > 0 } iso) e.Add(new XElement("source", new XAttribute("file", resolvePath(iso))));
            e.Add(new XElement("target", new XAttribute("dev", (q35 ? "sd" : "hd") + (char)('a' + cd++)), new XAttribute("bus", q35 ? "sata" : "ide")));
            e.Add(new XElement("readonly"));
            if (dvd.IsoPath is { Length: > 0 }) e.Add(new XElement("boot", new XAttribute("order", order++)));
            devices.Add(e);
        }
        switch (vm.NetworkMode)
        {
            case VmNetworkMode.User:
                devices.Add(new XElement("interface", new XAttribute("type", "user"),
                    new XElement("mac", new XAttribute("address", vm.MacAddress ?? "")), new XElement("model", new XAttribute("type", "virtio"))));
                break;
            case VmNetworkMode.Bridge:
                devices.Add(new XElement("interface", new XAttribute("type", "bridge"),
                    new XElement("mac", new XAttribute("address", vm.MacAddress ?? "")), new XElement("source", new XAttribute("bridge", vm.Bridge ?? "")),
                    new XElement("model", new XAttribute("type", "virtio"))));
                break;
        }
        foreach (var nic in config.NetworkAdapters ?? [])
            devices.Add(AddedInterface(nic, bridgeOf(nic.Network)));
        devices.Add(new XElement("serial", new XAttribute("type", "file"),
            new XElement("source", new XAttribute("path", paths.SerialLog), new XAttribute("append", "on")), new XElement("target", new XAttribute("port", 0))));
        devices.Add(new XElement("channel", new XAttribute("type", "unix"),
            new XElement("target", new XAttribute("type", "virtio"), new XAttribute("name", "org.qemu.guest_agent.0"))));
        devices.Add(new XElement("memballoon", new XAttribute("model", "virtio")));
        foreach (var dimm in vm.Dimms)
            devices.Add(new XElement("memory", new XAttribute("model", "dimm"),
                new XElement("target", new XElement("size", new XAttribute("unit", "KiB"), dimm.Size / 1024), new XElement("node", 0))));

        var domain = new XElement("domain", new XAttribute("type", accelerator == Accelerator.Kvm ? "kvm" : "qemu"),
            new XElement("name", config.Name),
            new XElement("uuid", config.Id.ToString("D")));
        if (config.Description is { Length: > 0 } desc) domain.Add(new XElement("description", desc));
        if (hotplug) domain.Add(new XElement("maxMemory", new XAttribute("slots", QemuCommandLine.MemorySlots), new XAttribute("unit", "KiB"), vm.MaxMemorySize / 1024));
        domain.Add(
            new XElement("memory", new XAttribute("unit", "KiB"), kib),
            new XElement("currentMemory", new XAttribute("unit", "KiB"), kib),
            new XElement("memtune", new XElement("soft_limit", new XAttribute("unit", "KiB"),
                kib * Memory.MemoryPlanner.EffectiveGuaranteePercent(config) / 100)),
            new XElement("vcpu", new XAttribute("placement", "static"), cpus),
            cputune,
            os,
            new XElement("features", new XElement("acpi"), new XElement("apic")),
            cpu,
            new XElement("on_poweroff", "destroy"),
            new XElement("on_reboot", "restart"),
            new XElement("on_crash", "destroy"),
            devices);
        return new XDocument(domain).ToString() + "\n";
    }

    /// <summary>
    /// An added adapter on its network's bridge (a libvirt host need not have the module's networks, only the bridges),
    /// with its link state and its name as a user alias (libvirt takes only letters, digits, '-' and '_' after "ua-").
    /// </summary>
    private static XElement AddedInterface(VeNetworkAdapter nic, string bridge)
    {
        var e = new XElement("interface", new XAttribute("type", "bridge"),
            new XElement("mac", new XAttribute("address", nic.MacAddress)), new XElement("source", new XAttribute("bridge", bridge)),
            new XElement("model", new XAttribute("type", "virtio")));
        if (nic.Connected == false) e.Add(new XElement("link", new XAttribute("state", "down")));
        e.Add(new XElement("alias", new XAttribute("name", "ua-" + new string([.. nic.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]))));
        return e;
    }

}
