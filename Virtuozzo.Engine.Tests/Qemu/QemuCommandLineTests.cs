using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>
/// Golden files pin the generated QEMU command lines, one argument per line. To accept a deliberate change, run the
/// tests with VZ_UPDATE_GOLDEN=1 and review the diff of Golden/Qemu.
/// </summary>
public sealed class QemuCommandLineTests
{
    private static readonly Guid Id = Guid.Parse("3f2a9c1e-5b7d-4e8f-9a01-23456789abcd");
    private static readonly VzPaths Paths = new("/vz", "/run/vz", "vz");

    private static VeConfig Vm(Action<VeConfig>? change = null)
    {
        var c = new VeConfig
        {
            Id = Id,
            Name = "web,01",
            Type = VeType.VirtualMachine,
            Memory = new MemorySettings { MemorySize = 512L * 1024 * 1024 },
            Cpu = new CpuSettings { Count = 2 },
            Vm = new VmSettings { MacAddress = "00:1C:42:AA:BB:CC" },
        };
        c.Vm.Disks.Add(new VmDisk { Id = "disk0", Path = "disk0.qcow2" });
        change?.Invoke(c);
        return c;
    }

    private static void AssertGolden(string name, IReadOnlyList<string> args) => AssertGoldenText(name + ".args", string.Join('\n', args) + "\n");

    private static void AssertGoldenText(string name, string text)
    {
        var golden = Path.Combine(AppContext.BaseDirectory, "Golden", "Qemu", name);
        if (Environment.GetEnvironmentVariable("VZ_UPDATE_GOLDEN") == "1")
        {
            var source = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../Golden/Qemu", name));
            File.WriteAllText(source, text);
            return;
        }
        Assert.True(File.Exists(golden), $"Golden file {golden} is missing; run with VZ_UPDATE_GOLDEN=1 to create it.");
        Assert.Equal(File.ReadAllText(golden), text);
    }

    private static IReadOnlyList<string> Build(VeConfig c, Accelerator a = Accelerator.Tcg) =>
        QemuCommandLine.Build(c, VmRuntimePaths.For(Paths, c.Id), a, p => Path.IsPathRooted(p) ? p : $"/vz/private/{Id}/{p}");

    [Fact]
    public void Bios_vm_with_disk_under_tcg() => AssertGolden("bios-tcg", Build(Vm()));

    /// <summary>A VM on br0 with two added adapters, the second with its link down.</summary>
    private static void TwoMore(VeConfig c)
    {
        c.Vm!.NetworkMode = VmNetworkMode.Bridge;
        c.Vm.Bridge = "br0";
        c.NetworkAdapters =
        [
            new VeNetworkAdapter { Name = "eth1", Network = "backend", MacAddress = "02:1C:42:00:00:01", Slot = 1 },
            new VeNetworkAdapter { Name = "eth2", Network = "storage", MacAddress = "02:1C:42:00:00:02", Slot = 2, Connected = false },
        ];
    }

    private static string Xml(VeConfig c, Func<string, string>? bridgeOf = null) =>
        LibvirtDomainXml.Build(c, VmRuntimePaths.For(Paths, Id), Accelerator.Kvm, p => Path.IsPathRooted(p) ? p : $"/vz/private/{Id}/{p}",
            bridgeOf ?? (n => "vzbr-" + n));

    [Fact]
    public void Added_adapters_get_a_tap_a_device_and_on_q35_a_root_port_each()
    {
        AssertGolden("q35-three-nics", Build(Vm(TwoMore)));
        // pc: the root bus takes hotplug itself, so no port is made.
        var pc = Build(Vm(c => { TwoMore(c); c.Vm!.Machine = "pc"; }));
        Assert.DoesNotContain(pc, x => x.StartsWith("pcie-root-port,id=np", StringComparison.Ordinal));
        Assert.Contains("virtio-net-pci,netdev=net2,id=nic2,mac=02:1C:42:00:00:02", pc);
        // A hot-added adapter stays on the hotplug port it took, so a restore or an incoming migration sees QEMU's layout.
        var hot = Build(Vm(c => { TwoMore(c); c.NetworkAdapters![0].HotplugPort = "hp0"; }));
        Assert.Contains("virtio-net-pci,netdev=net1,id=nic1,mac=02:1C:42:00:00:01,bus=hp0", hot);
        Assert.DoesNotContain("pcie-root-port,id=np1,chassis=101", hot);
        // No added adapter: the command line is the single-NIC one, byte for byte.
        Assert.Equal(Build(Vm()), Build(Vm(c => c.NetworkAdapters = null)));
    }

    [Fact]
    public void Efi_vm_with_hotplug_memory_user_network_iso_and_direct_kernel_boot_under_kvm() =>
        AssertGolden("efi-kvm-full", Build(Vm(c =>
        {
            c.Memory.MemorySize = 2L * 1024 * 1024 * 1024;
            c.Vm!.Firmware = VmFirmware.Efi;
            c.Vm.MemHotplug = true;
            c.Vm.MaxMemorySize = 8L * 1024 * 1024 * 1024;
            c.Vm.NetworkMode = VmNetworkMode.User;
            c.Vm.DvdDrives.Add(new VmDvdDrive { Id = "cd0", IsoPath = "/iso/debian,12.iso" });
            c.Vm.DvdDrives.Add(new VmDvdDrive { Id = "cd1" });
            c.Vm.KernelPath = "/boot/vmlinuz";
            c.Vm.InitrdPath = "/boot/initrd.img";
            c.Vm.KernelArguments = "console=ttyS0 memhp_default_state=online_movable";
        }), Accelerator.Kvm));

    [Fact]
    public void Mem_merge_is_qemus_default_and_off_only_for_a_vm_that_opted_out()
    {
        static string Machine(IReadOnlyList<string> args) => args[args.ToList().IndexOf("-machine") + 1];
        Assert.Equal("q35", Machine(Build(Vm())));
        Assert.Equal("q35,mem-merge=off", Machine(Build(Vm(c => c.Vm!.MemMerge = false))));
        Assert.Equal("pc,mem-merge=off", Machine(Build(Vm(c => { c.Vm!.Machine = "pc"; c.Vm.MemMerge = false; }))));
    }

    [Fact]
    public void Pc_machine_on_a_bridge_has_no_pcie_root_ports() =>
        AssertGolden("pc-bridge", Build(Vm(c => { c.Vm!.Machine = "pc"; c.Vm.NetworkMode = VmNetworkMode.Bridge; c.Vm.Bridge = "br0"; })));

    [Fact]
    public void Restore_recreates_hot_added_dimms_and_loads_the_saved_state() =>
        AssertGolden("restore-dimm", QemuCommandLine.Build(Vm(c =>
        {
            c.Memory.MemorySize = 1280L * 1024 * 1024;
            c.Vm!.MemHotplug = true;
            c.Vm.MaxMemorySize = 4L * 1024 * 1024 * 1024;
            c.Vm.Dimms.Add(new VmDimm { Id = "a1b2c3d4", Size = 256L * 1024 * 1024 });
        }), VmRuntimePaths.For(Paths, Id), Accelerator.Tcg, p => $"/vz/private/{Id}/{p}", $"/vz/private/{Id}/it's memory.sav"));

    [Fact]
    public void Libvirt_domain_xml_of_a_full_vm() =>
        AssertGoldenText("efi-kvm-full.xml", Xml(Vm(c =>
        {
            c.Memory.MemorySize = 2L * 1024 * 1024 * 1024;
            c.Cpu.Mask = "1";
            c.Cpu.LimitPercent = 50;
            c.Vm!.Firmware = VmFirmware.Efi;
            c.Vm.MemHotplug = true;
            c.Vm.MaxMemorySize = 8L * 1024 * 1024 * 1024;
            c.Vm.Dimms.Add(new VmDimm { Id = "a1b2c3d4", Size = 256L * 1024 * 1024 });
            c.Vm.NetworkMode = VmNetworkMode.User;
            c.Vm.DvdDrives.Add(new VmDvdDrive { Id = "cd0", IsoPath = "/iso/debian.iso" });
            c.Vm.KernelPath = "/boot/vmlinuz";
            c.Vm.KernelArguments = "console=ttyS0";
        })));

    [Fact]
    public void Libvirt_domain_xml_has_an_interface_per_added_adapter_on_its_networks_bridge()
    {
        AssertGoldenText("q35-three-nics.xml", Xml(Vm(TwoMore)));
        // Names libvirt would refuse as an alias are made fit; a network that is gone is the caller's typed error, not a guess.
        Assert.Contains("<alias name=\"ua-eth1-100\" />", Xml(Vm(c => { TwoMore(c); c.NetworkAdapters![0].Name = "eth1.100"; })));
        var gone = new VzNotFoundException("VzNetworkNotFound", "no such network", "backend");
        Assert.Same(gone, Assert.Throws<VzNotFoundException>(() => Xml(Vm(TwoMore), _ => throw gone)));
    }

    [Fact]
    public void Refuses_a_host_without_an_accelerator()
    {
        var ex = Assert.Throws<VzCapabilityMissingException>(() => Build(Vm(), Accelerator.None));
        Assert.Equal("VzNoAccelerator", ex.ErrorId);
    }

    [Fact]
    public void Socket_paths_over_107_bytes_are_refused()
    {
        var deep = new VzPaths("/vz", "/run/" + new string('x', 90), "vz");
        var ex = Assert.Throws<VzInvalidArgumentException>(() => VmRuntimePaths.For(deep, Id).ValidateSocketPaths());
        Assert.Equal("VzRunRootTooLong", ex.ErrorId);
        VmRuntimePaths.For(Paths, Id).ValidateSocketPaths();
    }

    [Fact]
    public void Tap_names_fit_in_ifnamsiz() => Assert.True(QemuCommandLine.TapName(Id).Length <= 15);

    [Fact]
    public void Vm_settings_round_trip_through_ve_yaml()
    {
        var c = Vm(v => { v.Vm!.Pending = new VmPendingChanges { CpuCount = 4 }; v.Vm.Disks[0].BackingFile = "/vz/private/x/disk0.qcow2"; });
        var text = Yaml.Serializer.Serialize(c);
        Assert.DoesNotContain("isEmpty", text);
        var back = VeConfigFile.Parse("ve.yaml", text);
        Assert.Equal(4, back.Vm!.Pending!.CpuCount);
        Assert.Equal("/vz/private/x/disk0.qcow2", back.Vm.Disks[0].BackingFile);
        Assert.Equal("00:1C:42:AA:BB:CC", back.Vm.MacAddress);
    }
}
