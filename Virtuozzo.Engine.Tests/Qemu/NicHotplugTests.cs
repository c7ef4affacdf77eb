using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qemu.Hotplug;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>
/// Network adapter hotplug against a scripted fake QEMU: the exact QMP sequence, and that a failure half-way takes back
/// what was done (no backend, so no tap, left behind).
/// </summary>
public sealed class NicHotplugTests
{
    [Fact]
    public async Task A_tap_that_cannot_join_its_bridge_is_dropped_again_before_any_device_is_added()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync();
        await using var _m = monitor;
        var nic = new VeNetworkAdapter { Name = "eth1", Network = "n", MacAddress = "02:1C:42:00:00:07", Slot = 7 };
        // The fake QEMU makes no tap, so the real "ip link set ... master" fails: the fault under test.
        var add = NicHotplug.AddAsync(monitor, new ProcessRunner(NullLogger<ProcessRunner>.Instance), Guid.NewGuid(), nic, "nosuchbridge0", "q35", CancellationToken.None);
        var netdev = await peer.AnswerAsync("netdev_add");
        Assert.Equal("tap", netdev["arguments"]!["type"]!.GetValue<string>());
        Assert.Equal("net7", netdev["arguments"]!["id"]!.GetValue<string>());
        Assert.Matches("^vzx[0-9a-f]{10}07$", netdev["arguments"]!["ifname"]!.GetValue<string>());
        var del = await peer.AnswerAsync("netdev_del");
        Assert.Equal("net7", del["arguments"]!["id"]!.GetValue<string>());
        await Assert.ThrowsAsync<VzExternalToolException>(() => add);
    }

    [Fact]
    public async Task Unplug_waits_for_the_guest_then_drops_the_backend()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync();
        await using var _m = monitor;
        var remove = NicHotplug.RemoveAsync(monitor, 3, CancellationToken.None);
        var dev = await peer.AnswerAsync("device_del");
        Assert.Equal("nic3", dev["arguments"]!["id"]!.GetValue<string>());
        await Task.Delay(100);
        Assert.False(remove.IsCompleted, "the backend stays until the guest let go of the device");
        await peer.SendAsync("{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"nic3\", \"path\": \"/machine/peripheral/nic3\"}, \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}\n");
        var del = await peer.AnswerAsync("netdev_del");
        Assert.Equal("net3", del["arguments"]!["id"]!.GetValue<string>());
        await remove;
    }

    [Fact]
    public async Task Link_state_is_set_link_on_the_device()
    {
        var (monitor, peer) = await ScriptedQemu.ConnectMonitorAsync();
        await using var _m = monitor;
        var set = monitor.SetLinkAsync("nic2", false, CancellationToken.None);
        var req = await peer.AnswerAsync("set_link");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("{\"name\": \"nic2\", \"up\": false}"), req["arguments"]));
        await set;
    }
}
