using System.Text;
using System.Text.Json.Nodes;
using Virtuozzo.Engine.Qemu.Agent;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>The typed guest agent against a scripted fake agent: the JSON each method sends and how replies are read.</summary>
public sealed class QemuAgentTests
{
    [Fact]
    public async Task Exec_sends_path_arguments_and_stdin_base64_and_decodes_the_output()
    {
        var (agent, peer) = await ScriptedQemu.OpenAgentAsync();
        await using var _a = agent;
        var t = TimeSpan.FromSeconds(5);
        var start = agent.GuestExecAsync("/bin/sh", ["-c", "cat"], "héllo", t, CancellationToken.None);
        var req = await peer.AnswerAgentAsync("guest-exec", "{\"pid\": 42}");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("[\"-c\", \"cat\"]"), req["arguments"]!["arg"]));
        Assert.True(req["arguments"]!["capture-output"]!.GetValue<bool>());
        Assert.Equal("héllo", Encoding.UTF8.GetString(Convert.FromBase64String(req["arguments"]!["input-data"]!.GetValue<string>())));
        Assert.Equal(42, await start);

        var running = agent.GuestExecStatusAsync(42, t, CancellationToken.None);
        Assert.Equal(42, (await peer.AnswerAgentAsync("guest-exec-status", "{\"exited\": false}"))["arguments"]!["pid"]!.GetValue<long>());
        Assert.False((await running).Exited);

        var done = agent.GuestExecStatusAsync(42, t, CancellationToken.None);
        await peer.AnswerAgentAsync("guest-exec-status",
            $"{{\"exited\": true, \"exitcode\": 3, \"out-data\": \"{Convert.ToBase64String(Encoding.UTF8.GetBytes("out\n"))}\", \"err-data\": \"not base64!\", \"out-truncated\": true}}");
        var status = await done;
        Assert.Equal(new GuestExecStatus { Exited = true, ExitCode = 3, StdOut = "out\n", StdErr = "", OutputTruncated = true }, status);
    }

    [Fact]
    public async Task Shutdown_asks_for_a_powerdown_and_waits_for_no_reply()
    {
        var (agent, peer) = await ScriptedQemu.OpenAgentAsync();
        await using var _a = agent;
        await agent.GuestShutdownAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        var (_, req) = await peer.ReadAsync();
        Assert.Equal("guest-shutdown", req["execute"]!.GetValue<string>());
        Assert.Equal("powerdown", req["arguments"]!["mode"]!.GetValue<string>());
    }

    [Fact]
    public async Task Facts_and_interfaces_are_read_into_typed_values()
    {
        var (agent, peer) = await ScriptedQemu.OpenAgentAsync();
        await using var _a = agent;
        var t = TimeSpan.FromSeconds(5);
        var info = agent.GuestInfoAsync(t, CancellationToken.None);
        await peer.AnswerAgentAsync("guest-info", "{\"version\": \"7.2.0\", \"supported_commands\": [{\"name\": \"guest-ping\", \"enabled\": true}, {\"name\": \"guest-exec\", \"enabled\": false}]}");
        var (version, commands) = await info;
        Assert.Equal("7.2.0", version);
        Assert.Equal(["guest-ping"], commands);

        var os = agent.GuestGetOsinfoAsync(t, CancellationToken.None);
        await peer.AnswerAgentAsync("guest-get-osinfo", "{\"name\": \"Debian\", \"pretty-name\": \"Debian 12\", \"kernel-release\": \"6.1.0\"}");
        Assert.Equal(("Debian 12", "6.1.0", "vm1"), ((await os).OsName, (await os).KernelRelease, (await os).VmName));

        var tz = agent.GuestGetTimezoneAsync(t, CancellationToken.None);
        await peer.AnswerAgentAsync("guest-get-timezone", "{\"zone\": \"UTC\", \"offset\": 0}");
        Assert.Equal(("UTC", 0), await tz);

        var cpus = agent.GuestGetVcpusOnlineAsync(t, CancellationToken.None);
        await peer.AnswerAgentAsync("guest-get-vcpus", "[{\"logical-id\": 0, \"online\": true}, {\"logical-id\": 1, \"online\": false}]");
        Assert.Equal(1, await cpus);

        var nics = agent.GuestNetworkGetInterfacesAsync(t, CancellationToken.None);
        await peer.AnswerAgentAsync("guest-network-get-interfaces",
            "[{\"name\": \"eth0\", \"hardware-address\": \"00:1c:42:aa:bb:cc\", \"ip-addresses\": [{\"ip-address-type\": \"ipv4\", \"ip-address\": \"198.18.0.15\", \"prefix\": 24}]}]");
        var nic = Assert.Single(await nics);
        Assert.Equal(("vm1", "eth0", "00:1c:42:aa:bb:cc"), (nic.VmName, nic.Name, nic.MacAddress));
        Assert.Equal(["198.18.0.15/24"], nic.IPAddresses);
    }
}
