using System.Text.Json.Nodes;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Qemu.Migration;
using Virtuozzo.Engine.Qemu.Monitor;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>
/// The typed monitor against a scripted fake QEMU: each method sends exactly the QMP command and arguments QEMU
/// documents, and turns the reply into a typed value.
/// </summary>
public sealed class QemuMonitorTests
{
    public static TheoryData<string, string, string?> SimpleCommands => new()
    {
        { "stop", "stop", null },
        { "cont", "cont", null },
        { "powerdown", "system_powerdown", null },
        { "resize", "block_resize", "{\"node-name\": \"disk1\", \"size\": 2147483648}" },
        { "blockdev-del", "blockdev-del", "{\"node-name\": \"disk1\"}" },
        { "device_del", "device_del", "{\"id\": \"disk1\"}" },
        { "ram", "object-add", "{\"qom-type\": \"memory-backend-ram\", \"id\": \"mem-ab\", \"size\": 134217728}" },
        { "migrate", "migrate", "{\"uri\": \"exec:cat > '/x'\"}" },
        { "migrate_cancel", "migrate_cancel", null },
    };

    [Theory]
    [MemberData(nameof(SimpleCommands))]
    public async Task Each_method_sends_its_one_command_with_the_documented_arguments(string method, string command, string? arguments)
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync();
        await using var _m = monitor;
        var ct = CancellationToken.None;
        var call = method switch
        {
            "stop" => monitor.StopAsync(ct),
            "cont" => monitor.ContAsync(ct),
            "powerdown" => monitor.SystemPowerdownAsync(ct),
            "resize" => monitor.BlockResizeAsync("disk1", 2L << 30, ct),
            "blockdev-del" => monitor.BlockdevDelAsync("disk1", ct),
            "device_del" => monitor.DeviceDelAsync("disk1", ct),
            "ram" => monitor.ObjectAddMemoryBackendRamAsync("mem-ab", 128L << 20, ct),
            "migrate" => monitor.MigrateAsync("exec:cat > '/x'", ct),
            "migrate_cancel" => monitor.MigrateCancelAsync(ct),
            _ => throw new ArgumentException(method),
        };
        await peer.ExpectAsync(command, arguments);
        await call;
    }

    [Fact]
    public async Task Queries_come_back_typed()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync();
        await using var _m = monitor;
        var status = monitor.QueryStatusAsync(CancellationToken.None);
        await peer.ExpectAsync("query-status", null, "{\"status\": \"inmigrate\", \"running\": false}");
        Assert.Equal("inmigrate", await status);

        var threads = monitor.QueryVcpuThreadIdsAsync(CancellationToken.None);
        await peer.ExpectAsync("query-cpus-fast", null, "[{\"cpu-index\": 0, \"thread-id\": 4711}, {\"cpu-index\": 1, \"thread-id\": 4712}]");
        Assert.Equal([4711, 4712], await threads);

        var migration = monitor.QueryMigrateAsync(CancellationToken.None);
        await peer.ExpectAsync("query-migrate", null, "{\"status\": \"failed\", \"error-desc\": \"disk full\"}");
        Assert.Equal(new MigrationStatus("failed", "disk full"), await migration);

        var pci = monitor.QueryPciAsync(CancellationToken.None);
        await peer.ExpectAsync("query-pci", null,
            "[{\"bus\": 0, \"devices\": [{\"qdev_id\": \"\"}, {\"qdev_id\": \"hp0\", \"pci_bridge\": {\"devices\": [{\"qdev_id\": \"disk1\"}]}}, {\"qdev_id\": \"hp1\", \"pci_bridge\": {\"devices\": []}}]}]");
        Assert.Equal([new PciDevice(null, 0), new PciDevice("hp0", 1), new PciDevice("hp1", 0)], await pci);
    }

    [Fact]
    public async Task Quit_counts_a_monitor_that_closes_instead_of_answering_as_done()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync();
        await using var _m = monitor;
        var quit = monitor.QuitAsync(CancellationToken.None);
        var (_, req) = await peer.ReadAsync();
        Assert.Equal("quit", req["execute"]!.GetValue<string>());
        peer.Close();
        // Well within the monitor's command timeout: the close ends the wait, not the timeout.
        await quit.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_dimm_is_a_ram_backend_and_a_pc_dimm_named_as_the_command_line_names_them()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync();
        await using var _m = monitor;
        var add = MemoryHotplug.AddDimmAsync(monitor, "ab12", 256L << 20, CancellationToken.None);
        await peer.ExpectAsync("object-add", "{\"qom-type\": \"memory-backend-ram\", \"id\": \"mem-ab12\", \"size\": 268435456}");
        await peer.ExpectAsync("device_add", "{\"driver\": \"pc-dimm\", \"id\": \"dimm-ab12\", \"memdev\": \"mem-ab12\"}");
        await add;
    }

    [Fact]
    public async Task Saving_the_state_pauses_streams_to_a_quoted_partial_file_and_lets_the_vm_run_on_when_it_fails()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync();
        await using var _m = monitor;
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("it's"));
        var path = dir.Combine("it's", "memory.sav");
        var save = VmStateFile.SaveAsync(monitor, path, TimeSpan.FromSeconds(30), "vm1", CancellationToken.None);
        await peer.ExpectAsync("stop", null);
        var quoted = $"'{path.Replace("'", "'\\''")}.partial'";
        await peer.ExpectAsync("migrate", new JsonObject { ["uri"] = $"exec:cat > {quoted}" }.ToJsonString());
        await peer.ExpectAsync("query-migrate", null, "{\"status\": \"active\"}");
        await peer.ExpectAsync("query-migrate", null, "{\"status\": \"failed\", \"error-desc\": \"No space left on device\"}");
        await peer.ExpectAsync("cont", null);
        var ex = await Assert.ThrowsAsync<VzInvalidStateException>(() => save);
        Assert.Equal("VzVmSaveFailed", ex.ErrorId);
        Assert.Contains("No space left on device", ex.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task A_restore_waits_while_the_state_loads_then_lets_the_vcpus_run()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync();
        await using var _m = monitor;
        var resume = VmStateFile.ResumeLoadedAsync(monitor, "vm1", CancellationToken.None);
        await peer.ExpectAsync("query-status", null, "{\"status\": \"inmigrate\"}");
        await peer.ExpectAsync("query-status", null, "{\"status\": \"paused\"}");
        await peer.ExpectAsync("cont", null);
        await resume;
    }
}
