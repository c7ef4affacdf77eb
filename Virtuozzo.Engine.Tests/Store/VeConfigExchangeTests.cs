using Microsoft.Extensions.Logging.Abstractions;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Store;

public sealed class VeConfigExchangeTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly VeStore store;
    private readonly VeConfigExchange exchange;

    public VeConfigExchangeTests()
    {
        store = new VeStore(new VzPaths(temp.Combine("data"), temp.Combine("run"), "vz-xunit"), NullLogger<VeStore>.Instance);
        exchange = new VeConfigExchange(store, NullLogger<VeConfigExchange>.Instance)
        {
            // Stands in for the areas' create paths: registers a VE of the requested type and name.
            Create = (desired, _) => Task.FromResult(Create(desired.Name, desired.Type, 512 << 20).Id),
        };
    }

    public void Dispose() => temp.Dispose();

    private VeRecord Create(string name, VeType type = VeType.Container, long memory = 128 << 20)
    {
        var config = new VeConfig
        {
            Name = name, Type = type, Memory = new MemorySettings { MemorySize = memory },
            Container = type == VeType.Container ? new ContainerSettings { Template = "busybox" } : null,
            Vm = type == VeType.VirtualMachine ? new VmSettings() : null,
        };
        var r = store.BeginCreate(config);
        store.CompleteCreation(r.Id);
        return store.TryGet(r.Id)!;
    }

    private string Write(string text)
    {
        var path = temp.Combine($"f{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Export_then_plan_of_the_same_host_is_all_unchanged()
    {
        Create("web01");
        Create("vm01", VeType.VirtualMachine, 1L << 30);
        var path = Write(exchange.Export(store.List()));
        var plan = exchange.Plan(path);
        Assert.Equal(["vm01", "web01"], plan.Select(p => p.Name));
        Assert.All(plan, p => Assert.Equal(VeConfigImportAction.Unchanged, p.Action));
    }

    [Fact]
    public void Export_leaves_out_ids_and_creation_times()
    {
        var r = Create("web01");
        var text = exchange.Export(store.List());
        Assert.DoesNotContain(r.Id.ToString(), text);
        Assert.DoesNotContain("createdAt", text);
    }

    [Fact]
    public async Task Update_changes_only_the_given_sections_and_lists_each_difference()
    {
        var r = Create("web01");
        var plan = exchange.Plan(Write("schemaVersion: 1\nves:\n- name: WEB01\n  type: Container\n  cpu:\n    units: 2000\n    limitPercent: 50\n"));
        var item = Assert.Single(plan);
        Assert.Equal(VeConfigImportAction.Update, item.Action);
        Assert.Equal(r.Id, item.Id);
        Assert.Equal(["cpu.limitPercent: (none) -> 50", "cpu.units: 1000 -> 2000"], item.Changes);
        var applied = await exchange.ApplyAsync(item);
        Assert.True(applied.Applied);
        var config = store.TryGet(r.Id)!.Config!;
        Assert.Equal(2000, config.Cpu.Units);
        Assert.Equal(128L << 20, config.Memory.MemorySize);
        Assert.Equal("busybox", config.Container!.Template);
    }

    [Fact]
    public async Task Boot_autostop_and_balloon_settings_travel_through_a_file()
    {
        var vm = Create("db01", VeType.VirtualMachine, 1L << 30);
        store.Update(vm.Id, c =>
        {
            (c.BootOrder, c.BootDelay, c.AutoStop) = (3, 20, VeAutoStop.Suspend);
            (c.Vm!.AutoBalloon, c.Vm.MemMerge, c.Vm.MemHotplug, c.Vm.MaxMemorySize) = (false, false, true, 4L << 30);
        });
        var yaml = exchange.Export(store.List());
        Assert.Contains("bootOrder: 3", yaml);
        Assert.Contains("bootDelay: 20", yaml);
        Assert.Contains("autoStop: Suspend", yaml);
        Assert.Contains("autoBalloon: false", yaml);
        Assert.Contains("memMerge: false", yaml);
        Assert.Contains("memHotplug: true", yaml);
        var file = Write(yaml);
        Assert.All(exchange.Plan(file), p => Assert.Equal(VeConfigImportAction.Unchanged, p.Action));

        // The same file on a host where the VM has the defaults brings the settings back.
        store.Update(vm.Id, c =>
        {
            (c.BootOrder, c.BootDelay, c.AutoStop) = (null, null, null);
            (c.Vm!.AutoBalloon, c.Vm.MemMerge, c.Vm.MemHotplug, c.Vm.MaxMemorySize) = (null, null, false, 0);
        });
        var item = Assert.Single(exchange.Plan(file));
        Assert.Equal(VeConfigImportAction.Update, item.Action);
        Assert.Contains("bootOrder: (none) -> 3", item.Changes);
        Assert.Contains("autoStop: (none) -> Suspend", item.Changes);
        Assert.Contains("vm.memMerge: (none) -> false", item.Changes);
        await exchange.ApplyAsync(item);
        var back = store.TryGet(vm.Id)!.Config!;
        Assert.Equal((3, 20, VeAutoStop.Suspend), (back.BootOrder, back.BootDelay, back.AutoStop));
        Assert.Equal((false, false), (back.Vm!.AutoBalloon, back.Vm.MemMerge));
        // Hotplug is identity (DIMM slots on QEMU's command line): a file sets it on a VM it creates, never switches it.
        Assert.False(back.Vm.MemHotplug);
        Assert.DoesNotContain(item.Changes, c => c.StartsWith("vm.memHotplug", StringComparison.Ordinal));

        // bootOrder 0 and autoStop None in a file are the defaults: stored as "not set", as Set-VzVm stores them.
        var reset = Assert.Single(exchange.Plan(Write("schemaVersion: 1\nves:\n- name: db01\n  type: VirtualMachine\n  bootOrder: 0\n  autoStop: None\n")));
        Assert.Contains("bootOrder: 3 -> (none)", reset.Changes);
        await exchange.ApplyAsync(reset);
        Assert.Equal((null, 20, null), (store.TryGet(vm.Id)!.Config!.BootOrder, store.TryGet(vm.Id)!.Config!.BootDelay, store.TryGet(vm.Id)!.Config!.AutoStop));
    }

    [Fact]
    public async Task Create_registers_a_ready_ve_with_a_new_id()
    {
        var item = Assert.Single(exchange.Plan(Write("schemaVersion: 1\nves:\n- name: db01\n  type: VirtualMachine\n  memory:\n    size: 1073741824\n")));
        Assert.Equal(VeConfigImportAction.Create, item.Action);
        Assert.Empty(store.List());
        var done = await exchange.ApplyAsync(item);
        var record = store.TryGet(done.Id)!;
        Assert.Equal(VeRegistrationState.Ready, record.State);
        Assert.Equal("db01", record.Config!.Name);
        Assert.Equal(VeType.VirtualMachine, record.Config!.Type);
        Assert.Equal(1L << 30, record.Config.Memory.MemorySize);
        Assert.NotNull(record.Config.Vm);
    }

    [Fact]
    public async Task A_new_ve_is_made_by_its_area_and_keeps_the_identity_the_area_gave_it()
    {
        exchange.Create = (desired, _) =>
        {
            // Stands in for the container area: it allocates the uid range and MAC itself.
            var c = VeConfigFile.Clone(desired);
            c.Container!.UidBase = 7_000_000; c.Container.Network.MacAddress = "02:00:00:00:00:01";
            var r = store.BeginCreate(c);
            store.CompleteCreation(r.Id);
            return Task.FromResult(r.Id);
        };
        var text = "schemaVersion: 1\nves:\n- name: ct1\n  type: Container\n  container: { template: busybox, uidBase: 100000, hostname: web }\n  cpu: { units: 2000 }\n";
        var done = await exchange.ApplyAsync(Assert.Single(exchange.Plan(Write(text))));
        var config = store.TryGet(done.Id)!.Config!;
        Assert.Equal(7_000_000, config.Container!.UidBase);
        Assert.Equal("02:00:00:00:00:01", config.Container.Network.MacAddress);
        Assert.Equal("web", config.Container.Hostname);
        Assert.Equal(2000, config.Cpu.Units);
    }

    [Fact]
    public async Task Without_a_way_to_create_a_new_ve_the_import_refuses_and_makes_nothing()
    {
        exchange.Create = null;
        var item = Assert.Single(exchange.Plan(Write("schemaVersion: 1\nves:\n- name: ct9\n  type: Container\n  container: { template: busybox }\n")));
        var ex = await Assert.ThrowsAsync<VzCapabilityMissingException>(() => exchange.ApplyAsync(item));
        Assert.Equal("VzImportCannotCreate", ex.ErrorId);
        Assert.Empty(store.List());
    }

    [Fact]
    public void An_update_never_changes_identity_fields()
    {
        var r = Create("web01");
        var text = "schemaVersion: 1\nves:\n- name: web01\n  type: Container\n  container: { template: other, uidBase: 42, hostname: h2 }\n";
        var item = Assert.Single(exchange.Plan(Write(text)));
        Assert.Equal("busybox", item.Desired!.Container!.Template);
        Assert.Equal(r.Config!.Container!.UidBase, item.Desired.Container.UidBase);
        Assert.Equal("h2", item.Desired.Container.Hostname);
    }

    [Theory]
    [InlineData("schemaVersion: 1\nves:\n- name: ok\n  type: Container\n  container: { template: busybox }\n- name: ../x\n  type: Container\n", 6)]
    [InlineData("schemaVersion: 1\nves:\n- name: a\n  type: Container\n  memroy: {}\n", 5)]
    [InlineData("schemaVersion: 1\nves:\n- name: a\n  type: Containr\n", 4)]
    [InlineData("schemaVersion: 1\nves:\n- name: a\n  type: Container\n  container: { template: busybox }\n- name: A\n  type: Container\n", 6)]
    [InlineData("schemaVersion: 1\nves:\n- name: a\n  type: Container\n  memory: { guaranteePercent: 101 }\n", 3)]
    [InlineData("schemaVersion: 1\nves:\n- name: a\n  type: Container\n  cpu: { units: 7 }\n", 3)]
    [InlineData("schemaVersion: 1\nves:\n- name: a\n  type: Container\n", 3)]
    [InlineData("schemaVersion: 1\nves:\n- name: a\n  type: Container\n  vm: {}\n", 3)]
    [InlineData("schemaVersion: 1\nves:\n- name: a\n  type: Container\n  container: { template: busybox }\n  bootOrder: 10000\n", 3)]
    [InlineData("schemaVersion: 1\nves:\n- name: a\n  type: Container\n  container: { template: busybox }\n  bootDelay: -1\n", 3)]
    [InlineData("schemaVersion: 1\nves:\n- name: a\n  type: Container\n  autoStop: Hibernate\n", 5)]
    public void A_bad_entry_is_a_config_error_naming_its_line(string text, int line)
    {
        var path = Write(text);
        var ex = Assert.Throws<VzConfigCorruptException>(() => exchange.Plan(path));
        Assert.Equal(line, ex.Line);
        Assert.Equal(path, ex.Path);
        Assert.Empty(store.List());
    }

    [Fact]
    public async Task Shared_folders_travel_through_a_file_and_each_changed_share_is_listed()
    {
        var folder = Directory.CreateDirectory(temp.Combine("share")).FullName;
        var r = Create("web01");
        store.Update(r.Id, c => c.SharedFolders = [new VeSharedFolder { Name = "data", Path = folder, GuestPath = "/mnt/data" }]);
        var text = exchange.Export(store.List());
        Assert.Contains("sharedFolders:", text);
        Assert.Equal(VeConfigImportAction.Unchanged, Assert.Single(exchange.Plan(Write(text))).Action);

        var item = Assert.Single(exchange.Plan(Write(text.Replace("guestPath: /mnt/data", "guestPath: /srv/data"))));
        Assert.Equal(["sharedFolders.data.guestPath: /mnt/data -> /srv/data"], item.Changes);
        await exchange.ApplyAsync(item);
        Assert.Equal("/srv/data", Assert.Single(store.TryGet(r.Id)!.Config!.SharedFolders!).GuestPath);

        // An empty list removes them all; a VE with none exports an empty list, so that round-trips unchanged too.
        var none = Assert.Single(exchange.Plan(Write("schemaVersion: 1\nves:\n- name: web01\n  type: Container\n  sharedFolders: []\n")));
        Assert.Equal(["sharedFolders.data.guestPath: /srv/data -> (none)", "sharedFolders.data.name: data -> (none)", "sharedFolders.data.path: " + folder + " -> (none)", "sharedFolders.data.readOnly: false -> (none)"], none.Changes);
        await exchange.ApplyAsync(none);
        Assert.Null(store.TryGet(r.Id)!.Config!.SharedFolders);
        Assert.Equal(VeConfigImportAction.Unchanged, Assert.Single(exchange.Plan(Write(exchange.Export(store.List())))).Action);
    }

    [Theory]
    [InlineData("path: /nonexistent/vz-share", "does not exist")]
    [InlineData("path: <share>\n    guestPath: /proc/x", "kernel tree")]
    [InlineData("path: <share>\n  - name: DATA\n    path: <share>", "already has a shared folder named 'DATA'")]
    [InlineData("path: <share>\n    transport: VirtioFs", "VirtioFs is for VMs")]
    public void A_bad_shared_folder_is_a_config_error_and_changes_nothing(string share, string why)
    {
        var folder = Directory.CreateDirectory(temp.Combine("share")).FullName;
        var r = Create("web01");
        var before = File.ReadAllText(Path.Combine(r.Directory, "ve.yaml"));
        var path = Write("schemaVersion: 1\nves:\n- name: web01\n  type: Container\n  sharedFolders:\n  - name: data\n    " + share.Replace("<share>", folder) + "\n");
        var ex = Assert.Throws<VzConfigCorruptException>(() => exchange.Plan(path));
        Assert.Contains(why, ex.Message);
        Assert.Equal(3, ex.Line);
        Assert.Equal(before, File.ReadAllText(Path.Combine(r.Directory, "ve.yaml")));
    }

    [Fact]
    public void A_type_that_differs_from_the_existing_ve_is_refused()
    {
        Create("web01");
        var ex = Assert.Throws<VzConfigCorruptException>(() => exchange.Plan(Write("schemaVersion: 1\nves:\n- name: web01\n  type: VirtualMachine\n")));
        Assert.Contains("is a VM in the file", ex.Message);
    }

    [Fact]
    public void A_newer_schema_and_an_oversized_file_are_refused()
    {
        Assert.Throws<VzConfigCorruptException>(() => exchange.Plan(Write("schemaVersion: 2\nves: []\n")));
        var big = temp.Combine("big.yaml");
        using (var f = File.Create(big)) f.SetLength(VeConfigExchange.MaxFileBytes + 1);
        Assert.Throws<VzConfigCorruptException>(() => exchange.Plan(big));
    }

    [Fact]
    public void A_missing_file_is_not_found()
    {
        var ex = Assert.Throws<VzNotFoundException>(() => exchange.Plan(temp.Combine("nope.yaml")));
        Assert.Equal("VzConfigFileNotFound", ex.ErrorId);
    }

    [Fact]
    public void Include_filters_entries_but_the_whole_file_is_checked()
    {
        var path = Write("schemaVersion: 1\nves:\n- name: a\n  type: Container\n  container: { template: busybox }\n- name: b\n  type: Container\n  memory: { guaranteePercent: 300 }\n");
        Assert.Throws<VzConfigCorruptException>(() => exchange.Plan(path, n => n == "a"));
    }
}
