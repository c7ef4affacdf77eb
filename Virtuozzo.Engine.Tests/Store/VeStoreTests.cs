using Microsoft.Extensions.Logging.Abstractions;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Store;

public sealed class VeStoreTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly VeStore store;

    public VeStoreTests()
    {
        store = new VeStore(new VzPaths(temp.Combine("data"), temp.Combine("run"), "vz-xunit"), NullLogger<VeStore>.Instance);
    }

    public void Dispose() => temp.Dispose();

    private static VeConfig Container(string name) => new()
    {
        Name = name,
        Type = VeType.Container,
        Memory = new MemorySettings { MemorySize = 128 << 20 },
        Container = new ContainerSettings { Template = "busybox" },
    };

    private VeRecord Create(string name)
    {
        var r = store.BeginCreate(Container(name));
        store.CompleteCreation(r.Id);
        return r;
    }

    [Fact]
    public async Task A_listing_during_creations_never_sees_a_VE_half_registered_as_corrupt()
    {
        // The host service lists every second while cmdlets create VEs: a folder seen before its marker and config
        // were in it used to be reported as a corrupt ve.yaml.
        using var stop = new CancellationTokenSource();
        var seen = new List<VeRegistrationState>();
        var lister = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
                foreach (var r in store.List()) lock (seen) seen.Add(r.State);
        });
        for (var i = 0; i < 150; i++) Create($"ct{i:000}");
        stop.Cancel();
        await lister;
        Assert.NotEmpty(seen);
        Assert.DoesNotContain(VeRegistrationState.Corrupt, seen);
        Assert.Equal(150, store.List().Count(r => r.State == VeRegistrationState.Ready));
        Assert.Empty(Directory.EnumerateDirectories(temp.Combine("data", "private"), ".new-*"));
    }

    [Fact]
    public void Created_ve_lists_as_ready_with_its_config()
    {
        var r = Create("web01");
        var listed = Assert.Single(store.List());
        Assert.Equal(r.Id, listed.Id);
        Assert.Equal(VeRegistrationState.Ready, listed.State);
        Assert.Equal("web01", listed.Config!.Name);
        Assert.Equal(128L << 20, listed.Config.Memory.MemorySize);
        Assert.Contains("schemaVersion: 1", File.ReadAllText(Path.Combine(listed.Directory, "ve.yaml")));
    }

    [Fact]
    public void Duplicate_name_is_refused_case_insensitively_and_creates_nothing()
    {
        Create("web01");
        var ex = Assert.Throws<VzAlreadyExistsException>(() => store.BeginCreate(Container("WEB01")));
        Assert.Equal("VzVeNameInUse", ex.ErrorId);
        Assert.Single(Directory.GetDirectories(store.Paths.PrivateRoot));
    }

    [Theory]
    [InlineData("")]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("-leading-dash")]
    [InlineData("has space")]
    public void Unsafe_names_are_refused_before_anything_is_made(string name)
    {
        var ex = Assert.Throws<VzInvalidArgumentException>(() => store.BeginCreate(Container(name)));
        Assert.Equal("VzInvalidName", ex.ErrorId);
        Assert.False(Directory.Exists(store.Paths.PrivateRoot) && Directory.EnumerateFileSystemEntries(store.Paths.PrivateRoot).Any());
    }

    [Fact]
    public void Names_longer_than_63_characters_are_refused()
    {
        var ex = Assert.Throws<VzInvalidArgumentException>(() => store.BeginCreate(Container(new string('a', 200))));
        Assert.Contains("200 characters", ex.Message);
    }

    [Fact]
    public void Update_is_read_modify_write_of_the_file_on_disk()
    {
        var r = Create("web01");
        store.Update(r.Id, c => c.Cpu.Units = 2000);
        store.Update(r.Id, c => c.Memory.MemorySize = 256L << 20);
        var config = VeConfigFile.Read(store.Paths.VeConfigPath(r.Id));
        Assert.Equal(2000, config.Cpu.Units);
        Assert.Equal(256L << 20, config.Memory.MemorySize);
    }

    [Fact]
    public void Listing_sees_a_change_written_by_someone_else()
    {
        var r = Create("web01");
        Assert.Equal(1000, store.List()[0].Config!.Cpu.Units); // warms the cache
        var path = store.Paths.VeConfigPath(r.Id);
        File.WriteAllText(path, File.ReadAllText(path).Replace("units: 1000", "units: 1234"));
        Assert.Equal(1234, store.List()[0].Config!.Cpu.Units);
    }

    [Fact]
    public void Rename_checks_uniqueness_and_keeps_the_id()
    {
        var a = Create("a1");
        Create("b1");
        Assert.Throws<VzAlreadyExistsException>(() => store.Rename(a.Id, "B1"));
        store.Rename(a.Id, "a2");
        Assert.Equal("a2", store.TryGet(a.Id)!.Config!.Name);
        Assert.Null(store.TryFind("a1"));
    }

    [Fact]
    public void A_half_created_ve_whose_creator_died_is_listed_as_incomplete_and_removable()
    {
        var r = store.BeginCreate(Container("half"));
        // Pretend the creator was a process that no longer exists.
        File.WriteAllText(Path.Combine(r.Directory, ".creating"), "999999999 1\n");
        var listed = Assert.Single(store.List());
        Assert.Equal(VeRegistrationState.Incomplete, listed.State);
        store.Remove(r.Id);
        Assert.Empty(store.List());
    }

    [Fact]
    public void A_ve_being_created_by_this_live_process_is_listed_as_creating()
    {
        store.BeginCreate(Container("busy"));
        Assert.Equal(VeRegistrationState.Creating, Assert.Single(store.List()).State);
    }

    [Fact]
    public void A_corrupt_config_is_reported_with_file_and_line_and_the_others_still_list()
    {
        var good = Create("good");
        var bad = Create("bad");
        var path = store.Paths.VeConfigPath(bad.Id);
        File.WriteAllText(path, "schemaVersion: 1\nid: " + bad.Id + "\nname: bad\ntype: Container\nmemory: [unclosed\n");
        var records = store.List();
        Assert.Equal(2, records.Count);
        var corrupt = Assert.Single(records, r => r.State == VeRegistrationState.Corrupt);
        Assert.Equal(bad.Id, corrupt.Id);
        Assert.Equal(path, corrupt.Error!.Path);
        Assert.NotNull(corrupt.Error.Line);
        Assert.Contains(path, corrupt.Error.Message);
        Assert.Contains(records, r => r.Id == good.Id && r.State == VeRegistrationState.Ready);
    }

    [Fact]
    public void A_truncated_config_is_corrupt_not_half_read()
    {
        var r = Create("cut");
        var path = store.Paths.VeConfigPath(r.Id);
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text[..text.IndexOf("name:", StringComparison.Ordinal)]);
        var record = Assert.Single(store.List());
        Assert.Equal(VeRegistrationState.Corrupt, record.State);
        Assert.Contains("truncated", record.Error!.Message);
    }

    [Fact]
    public void A_config_from_a_newer_schema_is_refused_by_name()
    {
        var r = Create("future");
        var path = store.Paths.VeConfigPath(r.Id);
        File.WriteAllText(path, File.ReadAllText(path).Replace("schemaVersion: 1", "schemaVersion: 99"));
        Assert.Contains("newer", Assert.Single(store.List()).Error!.Message);
    }

    [Fact]
    public void Remove_refuses_a_missing_ve()
    {
        var ex = Assert.Throws<VzNotFoundException>(() => store.Remove(Guid.NewGuid()));
        Assert.Equal("VzVeNotFound", ex.ErrorId);
    }

    [Fact]
    public void Threads_updating_different_fields_lose_nothing()
    {
        var r = Create("busy");
        Parallel.For(0, 4, i =>
        {
            for (var n = 0; n < 25; n++)
                store.Update(r.Id, c =>
                {
                    switch (i)
                    {
                        case 0: c.Cpu.Units++; break;
                        case 1: c.Memory.MemorySize++; break;
                        case 2: c.Memory.SwapSize++; break;
                        case 3: c.Cpu.Count = (c.Cpu.Count ?? 0) + 1; break;
                    }
                });
        });
        var config = VeConfigFile.Read(store.Paths.VeConfigPath(r.Id));
        Assert.Equal(1025, config.Cpu.Units);
        Assert.Equal((128L << 20) + 25, config.Memory.MemorySize);
        Assert.Equal(25, config.Memory.SwapSize);
        Assert.Equal(25, config.Cpu.Count);
    }
}
