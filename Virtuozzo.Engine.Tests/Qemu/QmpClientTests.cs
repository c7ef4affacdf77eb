using System.Text.Json.Nodes;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Qemu.Monitor;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>The QMP client against a scripted fake monitor.</summary>
public sealed class QmpClientTests
{
    private static readonly string Greeting = ScriptedQemu.Greeting("7.2.19", package: "Debian", capabilities: "\"oob\"");

    [Fact]
    public async Task Negotiates_capabilities_and_reads_the_version_from_the_greeting()
    {
        var (qmp, _) = await ScriptedQemu.OpenQmpAsync(Greeting);
        await using var _qmp = qmp;
        Assert.Equal("7.2.19", qmp.QemuVersion);
    }

    [Fact]
    public async Task Matches_replies_by_id_even_out_of_order_with_events_in_between()
    {
        var (qmp, peer) = await ScriptedQemu.OpenQmpAsync(Greeting);
        await using var _qmp = qmp;
        var first = qmp.ExecuteAsync("query-status", null, TimeSpan.FromSeconds(5), CancellationToken.None);
        var second = qmp.ExecuteAsync("query-name", null, TimeSpan.FromSeconds(5), CancellationToken.None);
        var (_, a) = await peer.ReadAsync();
        var (_, b) = await peer.ReadAsync();
        await peer.SendAsync("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"RESUME\"}\n");
        await peer.SendAsync($"{{\"return\": {{\"name\": \"vm1\"}}, \"id\": \"{b["id"]}\"}}\n");
        await peer.SendAsync($"{{\"return\": {{\"status\": \"running\", \"running\": true}}, \"id\": \"{a["id"]}\"}}\n");
        Assert.Equal("running", (await first)!["status"]!.GetValue<string>());
        Assert.Equal("vm1", (await second)!["name"]!.GetValue<string>());
        Assert.Contains(qmp.BufferedEvents, e => e["event"]!.GetValue<string>() == "RESUME");
    }

    [Fact]
    public async Task Turns_a_QMP_error_into_a_typed_exception_with_the_class()
    {
        var (qmp, peer) = await ScriptedQemu.OpenQmpAsync(Greeting);
        await using var _qmp = qmp;
        var call = qmp.ExecuteAsync("device_del", new JsonObject { ["id"] = "nope" }, TimeSpan.FromSeconds(5), CancellationToken.None);
        var (_, req) = await peer.ReadAsync();
        Assert.Equal("nope", req["arguments"]!["id"]!.GetValue<string>());
        await peer.SendAsync($"{{\"id\": \"{req["id"]}\", \"error\": {{\"class\": \"DeviceNotFound\", \"desc\": \"Device 'nope' not found\"}}}}\n");
        var ex = await Assert.ThrowsAsync<QmpException>(() => call);
        Assert.Equal("DeviceNotFound", ex.QmpClass);
        Assert.Equal("VzQmpCommandFailed", ex.ErrorId);
    }

    [Fact]
    public async Task Times_out_a_command_that_gets_no_reply()
    {
        var (qmp, peer) = await ScriptedQemu.OpenQmpAsync(Greeting);
        await using var _qmp = qmp;
        var ex = await Assert.ThrowsAsync<VzTimeoutException>(() => qmp.ExecuteAsync("query-status", null, TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.Equal("VzVmMonitorTimeout", ex.ErrorId);
    }

    [Fact]
    public async Task Reports_a_missing_greeting_as_a_timeout_the_second_client_case()
    {
        // QEMU accepts a second client but never greets it.
        var (client, _) = MemoryDuplexStream.CreatePair();
        var ex = await Assert.ThrowsAsync<VzTimeoutException>(() => QmpClient.OpenAsync(client, TimeSpan.FromMilliseconds(200), "vm1", CancellationToken.None));
        Assert.Equal("VzVmMonitorTimeout", ex.ErrorId);
    }

    [Fact]
    public async Task Fails_pending_commands_when_QEMU_closes_the_socket()
    {
        var (qmp, peer) = await ScriptedQemu.OpenQmpAsync(Greeting);
        await using var _qmp = qmp;
        // The command's own timeout is far away: the close must fail it, not the timeout (a crashed QEMU would
        // otherwise hold every caller for its full timeout). The guard turns a wait for the timeout into a failure.
        var call = qmp.ExecuteAsync("quit", null, TimeSpan.FromMinutes(10), CancellationToken.None);
        await peer.ReadAsync();
        peer.Close();
        var ex = await Assert.ThrowsAsync<VzInvalidStateException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("VzVmMonitorClosed", ex.ErrorId);
        Assert.True(qmp.Closed.IsCompleted);
    }

    [Fact]
    public async Task Device_deleted_waits_for_the_event_naming_the_device_not_the_virtio_backend()
    {
        var (qmp, peer) = await ScriptedQemu.OpenQmpAsync(Greeting);
        await using var _qmp = qmp;
        var remove = DiskHotplug.RemoveDiskAsync(new QemuMonitor(qmp), "disk1", CancellationToken.None);
        var (_, del) = await peer.ReadAsync();
        Assert.Equal("device_del", del["execute"]!.GetValue<string>());
        // The event can arrive before the command's reply; the backend's event has no device field.
        await peer.SendAsync("{\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": \"/machine/peripheral/disk1/virtio-backend\"}, \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}\n");
        await peer.ReplyAsync(del);
        await Task.Delay(100);
        Assert.False(remove.IsCompleted);
        await peer.SendAsync("{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"disk1\", \"path\": \"/machine/peripheral/disk1\"}, \"timestamp\": {\"seconds\": 1, \"microseconds\": 5}}\n");
        var (_, bdel) = await peer.ReadAsync();
        Assert.Equal("blockdev-del", bdel["execute"]!.GetValue<string>());
        Assert.Equal("disk1", bdel["arguments"]!["node-name"]!.GetValue<string>());
        await peer.ReplyAsync(bdel);
        Assert.True(await remove);
    }

    [Fact]
    public async Task Hot_add_removes_the_block_node_again_when_no_port_takes_the_device()
    {
        var (qmp, peer) = await ScriptedQemu.OpenQmpAsync(Greeting);
        await using var _qmp = qmp;
        var add = DiskHotplug.AddDiskAsync(new QemuMonitor(qmp), "disk2", "/vz/x/disk2.qcow2", "qcow2", "q35", CancellationToken.None);
        var (_, bd) = await peer.ReadAsync();
        Assert.Equal("blockdev-add", bd["execute"]!.GetValue<string>());
        Assert.Equal("/vz/x/disk2.qcow2", bd["arguments"]!["file"]!["filename"]!.GetValue<string>());
        await peer.ReplyAsync(bd);
        await peer.AnswerAsync("query-pci", "[]");
        for (var i = 0; i < 4; i++)
        {
            var (_, dev) = await peer.ReadAsync();
            Assert.Equal($"hp{i}", dev["arguments"]!["bus"]!.GetValue<string>());
            await peer.SendAsync($"{{\"id\": \"{dev["id"]}\", \"error\": {{\"class\": \"GenericError\", \"desc\": \"Bus 'hp{i}' is full\"}}}}\n");
        }
        await peer.AnswerAsync("blockdev-del");
        await Assert.ThrowsAsync<QmpException>(() => add);
    }

    [Fact]
    public async Task Ignores_lines_that_are_not_json_and_refuses_oversized_ones_by_closing()
    {
        var (qmp, peer) = await ScriptedQemu.OpenQmpAsync(Greeting);
        await using var _qmp = qmp;
        var call = qmp.ExecuteAsync("query-status", null, TimeSpan.FromSeconds(5), CancellationToken.None);
        var (_, req) = await peer.ReadAsync();
        await peer.SendAsync("garbage that is not json\n");
        await peer.SendAsync($"{{\"return\": {{\"status\": \"paused\"}}, \"id\": \"{req["id"]}\"}}\n");
        Assert.Equal("paused", (await call)!["status"]!.GetValue<string>());
        // 9 MiB without a newline: more than any QMP message; the client stops reading instead of growing.
        await peer.SendRawAsync(new byte[9 * 1024 * 1024]);
        await qmp.Closed.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
