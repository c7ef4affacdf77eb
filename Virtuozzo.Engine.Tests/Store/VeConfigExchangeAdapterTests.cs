using Microsoft.Extensions.Logging.Abstractions;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Network;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Store;

/// <summary>
/// Added network adapters in settings files: exported whole, planned against this host's networks and MACs with
/// Add-VzNetworkAdapter's error ids (file and line in the message), and written without their slots changing.
/// The live path (Add/Set/Remove through the adapter service) is proven in tests.pester/NetworkAdapters.Tests.ps1.
/// </summary>
public sealed class VeConfigExchangeAdapterTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly VeStore store;
    private readonly VeConfigExchange exchange;

    public VeConfigExchangeAdapterTests()
    {
        var paths = new VzPaths(temp.Combine("data"), temp.Combine("run"), "vz-xunit");
        store = new VeStore(paths, NullLogger<VeStore>.Instance);
        exchange = new VeConfigExchange(store, NullLogger<VeConfigExchange>.Instance)
        {
            Create = (desired, _) => Task.FromResult(Create(desired.Name, desired.Type).Id),
        };
        var networks = new VirtualNetworkStore(paths);
        Directory.CreateDirectory(networks.Directory);
        foreach (var n in new[] { "front", "back" }) networks.Write(new VirtualNetwork { Name = n, Type = VirtualNetworkType.Private, Bridge = "br" + n });
    }

    public void Dispose() => temp.Dispose();

    private VeRecord Create(string name, VeType type = VeType.Container, params VeNetworkAdapter[] adapters)
    {
        var r = store.BeginCreate(new VeConfig
        {
            Name = name, Type = type, Memory = new MemorySettings { MemorySize = 128 << 20 },
            Container = type == VeType.Container ? new ContainerSettings { Template = "busybox" } : null,
            Vm = type == VeType.VirtualMachine ? new VmSettings { MacAddress = "00:1C:42:00:00:AA" } : null,
            NetworkAdapters = adapters.Length == 0 ? null : [.. adapters],
        });
        store.CompleteCreation(r.Id);
        return store.TryGet(r.Id)!;
    }

    private static VeNetworkAdapter Nic(string name, string network, string mac, int slot, bool? connected = null, params string[] ips) =>
        new() { Name = name, Network = network, MacAddress = mac, Slot = slot, Connected = connected, IpAddresses = ips.Length == 0 ? null : [.. ips] };

    private string Write(string text)
    {
        var path = temp.Combine($"f{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    private string Yaml(string name, string type, string adapters) =>
        $"schemaVersion: 1\nves:\n- name: {name}\n  type: {type}\n  networkAdapters:\n{adapters}";

    [Fact]
    public async Task Adapters_round_trip_and_a_changed_file_changes_each_adapter_in_place()
    {
        var r = Create("web01", VeType.Container,
            Nic("eth1", "front", "02:1C:42:00:00:01", 1, null, "198.18.5.2/24"),
            Nic("eth2", "back", "02:1C:42:00:00:02", 3, false));
        store.Update(r.Id, c => c.NetworkAdapters![1].HotplugPort = "hp0");
        var text = exchange.Export(store.List());
        // The file holds what Add-VzNetworkAdapter takes, not this host's device layout.
        Assert.Contains("networkAdapters:", text);
        Assert.Contains("macAddress: 02:1C:42:00:00:02", text);
        Assert.Contains("connected: false", text);
        Assert.DoesNotContain("slot:", text);
        Assert.DoesNotContain("hotplugPort", text);
        Assert.Equal(VeConfigImportAction.Unchanged, Assert.Single(exchange.Plan(Write(text))).Action);

        var edited = text.Replace("network: back", "network: front").Replace("connected: false", "connected: true").Replace("198.18.5.2/24", "198.18.5.3/24");
        var item = Assert.Single(exchange.Plan(Write(edited)));
        Assert.Equal(
            ["networkAdapters.eth1.ipAddresses: [198.18.5.2/24] -> [198.18.5.3/24]", "networkAdapters.eth2.connected: false -> (none)", "networkAdapters.eth2.network: back -> front"],
            item.Changes);
        await exchange.ApplyAsync(item);
        var now = store.TryGet(r.Id)!.Config!.NetworkAdapters!;
        Assert.Equal(["front", "front"], now.Select(a => a.Network));
        Assert.Equal([1, 3], now.Select(a => a.Slot));
        Assert.Equal("hp0", now[1].HotplugPort);
        Assert.Null(now[1].Connected);
        Assert.Equal(VeConfigImportAction.Unchanged, Assert.Single(exchange.Plan(Write(exchange.Export(store.List())))).Action);
    }

    [Fact]
    public async Task A_new_adapter_gets_the_lowest_free_slot_and_a_generated_mac_and_one_left_out_goes()
    {
        var r = Create("web01", VeType.Container, Nic("eth1", "front", "02:1C:42:00:00:01", 2), Nic("old", "back", "02:1C:42:00:00:09", 1));
        var item = Assert.Single(exchange.Plan(Write(Yaml("web01", "Container", "  - name: eth1\n    network: front\n  - name: eth3\n    network: back\n"))));
        await exchange.ApplyAsync(item);
        var now = store.TryGet(r.Id)!.Config!.NetworkAdapters!;
        Assert.Equal(["eth1", "eth3"], now.Select(a => a.Name));
        Assert.Equal("02:1C:42:00:00:01", now[0].MacAddress);   // left out of the file: the adapter keeps its MAC
        Assert.Equal([2, 1], now.Select(a => a.Slot));
        Assert.Matches("^02:1C:42:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2}$", now[1].MacAddress);
        Assert.NotEqual("02:1C:42:00:00:09", now[1].MacAddress);

        await exchange.ApplyAsync(Assert.Single(exchange.Plan(Write("schemaVersion: 1\nves:\n- name: web01\n  type: Container\n  networkAdapters: []\n"))));
        Assert.Null(store.TryGet(r.Id)!.Config!.NetworkAdapters);
    }

    [Fact]
    public async Task A_created_ve_gets_the_files_adapters()
    {
        var item = Assert.Single(exchange.Plan(Write(Yaml("vm2", "VirtualMachine", "  - name: eth1\n    network: back\n    macAddress: 02-1c-42-00-00-07\n"))));
        Assert.Equal(VeConfigImportAction.Create, item.Action);
        var made = await exchange.ApplyAsync(item);
        var nic = Assert.Single(store.TryGet(made.Id)!.Config!.NetworkAdapters!);
        Assert.Equal(("eth1", "back", "02:1C:42:00:00:07", 1), (nic.Name, nic.Network, nic.MacAddress, nic.Slot));
    }

    public static TheoryData<string, string, string, string> BadAdapters => new()
    {
        { "  - name: eth1\n    network: nosuch\n", "VzNetworkNotFound", nameof(VzNotFoundException), "no network named 'nosuch'" },
        { "  - name: eth1\n    network: front\n    macAddress: 02:1C:42:00:00:99\n", "VzMacAddressInUse", nameof(VzAlreadyExistsException), "used by 'other'" },
        { "  - name: eth1\n    network: front\n    macAddress: 00:1C:42:00:00:AA\n", "VzMacAddressInUse", nameof(VzAlreadyExistsException), "used by 'vm1'" },
        { "  - name: eth1\n    network: front\n    macAddress: 01:00:5E:00:00:01\n", "VzMulticastMacAddress", nameof(VzInvalidArgumentException), "multicast" },
        { "  - name: eth1\n    network: front\n  - name: eth1\n    network: back\n", "VzNetworkAdapterExists", nameof(VzAlreadyExistsException), "already has an adapter named 'eth1'" },
        { "  - name: eth0\n    network: front\n", "VzNetworkAdapterExists", nameof(VzAlreadyExistsException), "named 'eth0'" },
        { "  - name: eth1\n    network: front\n    ipAddresses: [198.18.5.300/24]\n", "VzInvalidIpAddress", nameof(VzInvalidArgumentException), "198.18.5.300" },
        { "  - name: much-too-long-name0\n    network: front\n", "VzInvalidInterfaceName", nameof(VzInvalidArgumentException), "much-too-long-name0" },
        { "  - name: eth1\n    network: 'x;reboot'\n", "VzInvalidNetworkName", nameof(VzInvalidArgumentException), "x;reboot" },
        { "  - name: eth1\n", "VzNetworkRequired", nameof(VzInvalidArgumentException), "has no network" },
    };

    [Theory]
    [MemberData(nameof(BadAdapters))]
    public void A_bad_adapter_is_refused_with_add_vznetworkadapters_error_and_changes_nothing(string adapters, string errorId, string type, string why)
    {
        var r = Create("web01", VeType.Container, Nic("eth1", "back", "02:1C:42:00:00:01", 1));
        Create("other", VeType.Container, Nic("eth1", "front", "02:1C:42:00:00:99", 1));
        Create("vm1", VeType.VirtualMachine);
        var before = File.ReadAllText(Path.Combine(r.Directory, "ve.yaml"));
        var path = Write(Yaml("web01", "Container", adapters));
        var ex = Assert.ThrowsAny<VzException>(() => exchange.Plan(path));
        Assert.Equal((errorId, type), (ex.ErrorId, ex.GetType().Name));
        Assert.Contains(why, ex.Message);
        Assert.StartsWith($"{path} line 3, 'web01' networkAdapters: ", ex.Message);
        Assert.Contains("Nothing was imported.", ex.RecommendedAction);
        Assert.Equal(before, File.ReadAllText(Path.Combine(r.Directory, "ve.yaml")));
    }

    [Fact]
    public void A_vm_adapter_takes_no_addresses_and_two_ves_of_one_file_cannot_share_a_mac()
    {
        var vm = Assert.ThrowsAny<VzException>(() => exchange.Plan(Write(Yaml("vm2", "VirtualMachine", "  - name: eth1\n    network: front\n    ipAddresses: [198.18.5.2/24]\n"))));
        Assert.Equal("VzAdapterAddressNotForVm", vm.ErrorId);
        var twice = Write("schemaVersion: 1\nves:\n" +
            "- name: a\n  type: Container\n  container: { template: busybox }\n  networkAdapters:\n  - { name: eth1, network: front, macAddress: '02:1C:42:00:00:05' }\n" +
            "- name: b\n  type: Container\n  container: { template: busybox }\n  networkAdapters:\n  - { name: eth1, network: back, macAddress: '02:1C:42:00:00:05' }\n");
        var ex = Assert.ThrowsAny<VzException>(() => exchange.Plan(twice));
        Assert.Equal("VzMacAddressInUse", ex.ErrorId);
        Assert.Contains("line 8, 'b'", ex.Message);
        // A file's MAC may move between the VE's own adapters (the list replaces them), so renaming one is no clash.
        Create("web01", VeType.Container, Nic("eth1", "front", "02:1C:42:00:00:01", 1));
        var renamed = Assert.Single(exchange.Plan(Write(Yaml("web01", "Container", "  - { name: lan, network: front, macAddress: '02:1C:42:00:00:01' }\n"))));
        Assert.Equal(VeConfigImportAction.Update, renamed.Action);
    }

    [Fact]
    public void An_entry_left_out_by_name_still_has_its_adapters_checked()
    {
        var path = Write("schemaVersion: 1\nves:\n- name: a\n  type: Container\n  container: { template: busybox }\n" +
            "- name: b\n  type: Container\n  container: { template: busybox }\n  networkAdapters:\n  - { name: eth1, network: nosuch }\n");
        var ex = Assert.ThrowsAny<VzException>(() => exchange.Plan(path, n => n == "a"));
        Assert.Equal("VzNetworkNotFound", ex.ErrorId);
        Assert.Single(exchange.Plan(Write("schemaVersion: 1\nves:\n- name: a\n  type: Container\n  container: { template: busybox }\n"), n => n == "a"));
    }

    [Fact]
    public void Left_out_the_adapters_are_left_alone()
    {
        Create("web01", VeType.Container, Nic("eth1", "front", "02:1C:42:00:00:01", 1));
        var item = Assert.Single(exchange.Plan(Write("schemaVersion: 1\nves:\n- name: web01\n  type: Container\n  description: x\n")));
        Assert.DoesNotContain(item.Changes, c => c.StartsWith("networkAdapters", StringComparison.Ordinal));
        Assert.Single(item.Desired!.NetworkAdapters!);
    }
}
