using System.Globalization;
using System.Text.Json.Nodes;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Network.Adapters;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu.CommandLine;

/// <summary>
/// Turns a VM's config into the qemu-system-x86_64 argument list. Pure (no I/O), so golden-file tests pin it.
/// Block devices use -blockdev with JSON, which needs no escaping of commas in paths.
/// </summary>
public static class QemuCommandLine
{
    /// <summary>Spare PCIe root ports on q35, one per hot-added disk (q35's root bus itself is not hotpluggable).</summary>
    public const int HotplugPorts = 4;
    /// <summary>DIMM slots when memory hotplug is on.</summary>
    public const int MemorySlots = 8;
    public const string OvmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd";
    public const string OvmfVarsTemplate = "/usr/share/OVMF/OVMF_VARS_4M.fd";

    /// <summary>
    /// The arguments (without the program name). <paramref name="resolvePath"/> makes disk paths absolute;
    /// <paramref name="shares"/> are the VM's shared folders as <see cref="SharedFolders.VmSharePlan"/> resolved them.
    /// </summary>
    public static IReadOnlyList<string> Build(VeConfig config, VmRuntimePaths paths, Accelerator accelerator, Func<string, string> resolvePath, string? incomingStatePath = null,
        IReadOnlyList<VmShareDevice>? shares = null)
    {
        var vm = config.Vm ?? throw new ArgumentException("Not a VM config.", nameof(config));
        if (accelerator == Accelerator.None)
            throw new VzCapabilityMissingException("VzNoAccelerator", "QEMU cannot run guests on this host (neither KVM nor TCG works).", config.Name, "qemu-system-x86_64")
            { RecommendedAction = "Install qemu-system-x86 and check Get-VzHost -Refresh." };
        var a = new List<string>();
        void Add(params string[] items) => a.AddRange(items);
        // Hot-added DIMMs are part of Memory.MemorySize but sit in their own slots, as when QEMU saved them.
        var mib = (vm.BootMemorySize ?? config.Memory.MemorySize - vm.Dimms.Sum(d => d.Size)) / (1024 * 1024);
        var cpus = config.Cpu.Count ?? 1;

        Add("-name", $"guest={Opt(config.Name)},debug-threads=on");
        Add("-uuid", config.Id.ToString("D"));
        // mem-merge=on is QEMU's default (RAM offered to KSM); only an opt-out is spelled.
        Add("-machine", (vm.Machine == "pc" ? "pc" : "q35") + (vm.MemMerge == false ? ",mem-merge=off" : ""));
        Add("-accel", accelerator == Accelerator.Kvm ? "kvm" : "tcg");
        Add("-cpu", accelerator == Accelerator.Kvm ? "host" : "max");
        Add("-smp", cpus.ToString(CultureInfo.InvariantCulture));
        if (vm.MemHotplug && vm.MaxMemorySize > config.Memory.MemorySize)
            Add("-m", $"size={mib}M,slots={MemorySlots},maxmem={vm.MaxMemorySize / (1024 * 1024)}M");
        else
            Add("-m", $"{mib}M");
        shares ??= [];
        if (shares.Any(s => s.Transport == SharedFolders.SharedFolderTransport.VirtioFs))
        {
            // vhost-user: virtiofsd reads and writes guest RAM itself, so the RAM must be a shared, fd-backed mapping.
            // Only then: a VM without virtio-fs keeps plain anonymous RAM (and its golden command line).
            Add("-object", $"memory-backend-memfd,id={SharedRamId},size={mib}M,share=on");
            a[a.IndexOf("-machine") + 1] += $",memory-backend={SharedRamId}";
        }
        foreach (var dimm in vm.Dimms)
        {
            Add("-object", $"memory-backend-ram,id={DimmBackendId(dimm.Id)},size={dimm.Size / (1024 * 1024)}M");
            Add("-device", $"pc-dimm,id={DimmDeviceId(dimm.Id)},memdev={DimmBackendId(dimm.Id)}");
        }
        Add("-nodefaults", "-no-user-config", "-display", "none", "-msg", "timestamp=on");

        if (vm.Firmware == VmFirmware.Efi)
        {
            Add("-blockdev", Json(new JsonObject { ["driver"] = "file", ["filename"] = OvmfCode, ["node-name"] = "ovmf-code", ["read-only"] = true }));
            Add("-blockdev", Json(new JsonObject { ["driver"] = "file", ["filename"] = paths.EfiVars, ["node-name"] = "ovmf-vars" }));
            a[a.IndexOf("-machine") + 1] += ",pflash0=ovmf-code,pflash1=ovmf-vars";
        }

        Add("-chardev", $"socket,id=qmp,path={Opt(paths.QmpSocket)},server=on,wait=off");
        Add("-mon", "chardev=qmp,mode=control");
        // The host service's own monitor, which it keeps connected (VmRuntimePaths.ServiceQmpSocket).
        Add("-chardev", $"socket,id=qmp-svc,path={Opt(paths.ServiceQmpSocket)},server=on,wait=off");
        Add("-mon", "chardev=qmp-svc,mode=control");
        // ttyS0 is served on a socket for Enter-VzVm and, attached or not, logged to console.log as before.
        Add("-chardev", $"socket,id=serial0,path={Opt(paths.ConsoleSocket)},server=on,wait=off,logfile={Opt(paths.SerialLog)},logappend=on");
        Add("-serial", "chardev:serial0");
        Add("-device", "virtio-serial-pci,id=vser0");
        Add("-chardev", $"socket,id=qga0,path={Opt(paths.QgaSocket)},server=on,wait=off");
        Add("-device", "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0");
        // free-page-reporting: the guest hands freed pages back to the host by itself; deflate-on-oom: a guest about to
        // OOM takes memory back from the balloon before the memory manager's next pass can. Not free-page-hint: QEMU
        // 7.2 needs an iothread for it, and with one a Debian 12 guest migrated under TCG panicked on the destination
        // (memory corruption) in every trial, and never without it (tools/migration/free-page-hint-trial.py; docs/BENCHMARKS.md, Migration).
        Add("-device", "virtio-balloon-pci,id=balloon0,free-page-reporting=on,deflate-on-oom=on");

        if (vm.Machine != "pc")
            for (var i = 0; i < HotplugPorts; i++)
                Add("-device", $"pcie-root-port,id=hp{i},chassis={i + 1}");

        var bootIndex = 1;
        foreach (var disk in vm.Disks)
        {
            Add("-blockdev", Json(DiskNode(disk.Id, resolvePath(disk.Path), disk.Format, readOnly: false)));
            Add("-device", $"virtio-blk-pci,drive={disk.Id},id={disk.Id},serial={disk.Id},bootindex={bootIndex++}");
        }
        foreach (var dvd in vm.DvdDrives)
        {
            if (dvd.IsoPath is { Length: > 0 } iso)
            {
                Add("-blockdev", Json(DiskNode(dvd.Id, resolvePath(iso), "raw", readOnly: true)));
                Add("-device", $"ide-cd,drive={dvd.Id},id={dvd.Id},bus=ide.{DvdBus(vm, dvd)},bootindex={bootIndex++}");
            }
            else Add("-device", $"ide-cd,id={dvd.Id},bus=ide.{DvdBus(vm, dvd)}");
        }

        switch (vm.NetworkMode)
        {
            case VmNetworkMode.User:
                // restrict=on: the guest reaches only the host's slirp stack, never the outside world.
                Add("-netdev", "user,id=net0,restrict=on,net=198.18.0.0/24,host=198.18.0.2,dhcpstart=198.18.0.15");
                Add("-device", $"virtio-net-pci,netdev=net0,id=nic0,mac={vm.MacAddress}");
                break;
            case VmNetworkMode.Bridge:
                Add("-netdev", $"tap,id=net0,ifname={TapName(config.Id)},script=no,downscript=no");
                Add("-device", $"virtio-net-pci,netdev=net0,id=nic0,mac={vm.MacAddress}");
                break;
        }
        foreach (var nic in config.NetworkAdapters ?? [])
        {
            // On q35 each added adapter gets a root port of its own: the root bus cannot unplug, and Remove-VzNetworkAdapter
            // on the running VM must be able to. Chassis 100+: the disk hotplug ports have 1-4.
            var bus = "";
            if (nic.HotplugPort is { Length: > 0 } hotplugged) bus = $",bus={hotplugged}";
            else if (vm.Machine != "pc")
            {
                Add("-device", $"pcie-root-port,id={AdapterNames.Port(nic.Slot)},chassis={100 + nic.Slot}");
                bus = $",bus={AdapterNames.Port(nic.Slot)}";
            }
            Add("-netdev", $"tap,id={AdapterNames.Netdev(nic.Slot)},ifname={AdapterNames.Tap(config.Id, nic.Slot)},script=no,downscript=no");
            Add("-device", $"virtio-net-pci,netdev={AdapterNames.Netdev(nic.Slot)},id={AdapterNames.Device(nic.Slot)},mac={nic.MacAddress}{bus}");
        }

        foreach (var share in shares)
        {
            if (share.Transport == SharedFolders.SharedFolderTransport.VirtioFs)
            {
                Add("-chardev", $"socket,id=vfs-{share.Tag},path={Opt(share.SocketPath)}");
                // queue-size=1024: what virtiofsd and Proxmox use (the default 128 stalls Windows guests).
                Add("-device", $"vhost-user-fs-pci,id=fs-{share.Tag},chardev=vfs-{share.Tag},tag={share.Tag},queue-size=1024");
            }
            else
            {
                // passthrough: guest ids are the host's, as with virtio-fs and an idmapped container mount, so one
                // folder shared with all three shows the same owners everywhere.
                Add("-fsdev", $"local,id=fsdev-{share.Tag},path={Opt(share.HostPath)},security_model=passthrough{(share.ReadOnly ? ",readonly=on" : "")}");
                Add("-device", $"virtio-9p-pci,id=fs-{share.Tag},fsdev=fsdev-{share.Tag},mount_tag={share.Tag}");
            }
        }

        if (vm.KernelPath is { Length: > 0 } kernel)
        {
            Add("-kernel", resolvePath(kernel));
            if (vm.InitrdPath is { Length: > 0 } initrd) Add("-initrd", resolvePath(initrd));
            if (vm.KernelArguments is { Length: > 0 } append) Add("-append", append);
        }

        // QEMU 7.2 has no file: migration URI; exec runs /bin/sh -c, so the path is single-quoted.
        if (incomingStatePath is not null) Add("-incoming", $"exec:cat {ShellQuote(incomingStatePath)}");
        Add("-daemonize", "-pidfile", paths.PidFile);
        return a;
    }

    /// <summary>The id of the shared RAM backend of a VM with virtio-fs.</summary>
    public const string SharedRamId = "ram0";

    /// <summary>The tap device of a bridged VM: 15 bytes at most (IFNAMSIZ), stable per VM.</summary>
    public static string TapName(Guid id) => "vzt" + id.ToString("N")[..12];

    /// <summary>
    /// The -blockdev / blockdev-add description of a disk: a format node over a file node. A writable disk passes
    /// the guest's discards down (discard=unmap on both nodes): the format node frees its clusters and the file node
    /// punches the holes, so a guest's fstrim (Optimize-VzDisk on a running VM) gives the space back to the host.
    /// </summary>
    public static JsonObject DiskNode(string nodeName, string path, string format, bool readOnly)
    {
        var file = new JsonObject { ["driver"] = "file", ["filename"] = path, ["read-only"] = readOnly };
        var node = new JsonObject { ["driver"] = format, ["node-name"] = nodeName, ["read-only"] = readOnly };
        if (!readOnly)
        {
            file["discard"] = "unmap";
            node["discard"] = "unmap";
        }
        node["file"] = file;
        return node;
    }

    /// <summary>The device_add description of a hot-added virtio disk, on <paramref name="bus"/> (a root port) or the
    /// root bus. Its serial is the disk's id, as on the command line: the guest sees it in /sys/block/vdX/serial, which
    /// is how a guest-side step (an online file-system resize) finds the disk the host means.</summary>
    public static JsonObject DiskDevice(string id, string? bus)
    {
        var d = new JsonObject { ["driver"] = "virtio-blk-pci", ["drive"] = id, ["id"] = id, ["serial"] = id };
        if (bus is not null) d["bus"] = bus;
        return d;
    }

    /// <summary>The RAM backend of a DIMM, named so that a restore re-creates the slots QEMU saved.</summary>
    public static string DimmBackendId(string dimmId) => $"mem-{dimmId}";

    public static string DimmDeviceId(string dimmId) => $"dimm-{dimmId}";

    /// <summary>The device_add description of a DIMM over its backend.</summary>
    public static JsonObject DimmDevice(string dimmId) => new() { ["driver"] = "pc-dimm", ["id"] = DimmDeviceId(dimmId), ["memdev"] = DimmBackendId(dimmId) };

    internal static string ShellQuote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static int DvdBus(VmSettings vm, VmDvdDrive dvd) => vm.DvdDrives.IndexOf(dvd);

    private static string Json(JsonObject o) => o.ToJsonString();

    /// <summary>QEMU's option syntax: a comma inside a value is written as two commas.</summary>
    private static string Opt(string value) => value.Replace(",", ",,", StringComparison.Ordinal);
}
