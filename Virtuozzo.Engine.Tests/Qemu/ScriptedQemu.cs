using Virtuozzo.Engine.Qemu.Agent;
using Virtuozzo.Engine.Qemu.Monitor;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>
/// A scripted fake QEMU (or guest agent) for the client under test: the connection opened as the real one opens
/// (QMP greeting and capabilities, or the agent's sync), then the <see cref="ScriptedPeer"/> answers what the test
/// scripts.
/// </summary>
internal static class ScriptedQemu
{
    /// <summary>QEMU's QMP greeting line for <paramref name="version"/> (major.minor.micro).</summary>
    public static string Greeting(string version = "7.2.19", string package = "", string capabilities = "")
    {
        var v = version.Split('.');
        return $"{{\"QMP\": {{\"version\": {{\"qemu\": {{\"micro\": {v[2]}, \"minor\": {v[1]}, \"major\": {v[0]}}}, \"package\": \"{package}\"}}, \"capabilities\": [{capabilities}]}}}}\n";
    }

    /// <summary>A QMP client past the greeting (<see cref="Greeting"/> of 7.2.19 unless given) and qmp_capabilities.</summary>
    public static async Task<(QmpClient Client, ScriptedPeer Peer)> OpenQmpAsync(string? greeting = null)
    {
        var (client, peer) = ScriptedPeer.CreatePair();
        await peer.SendAsync(greeting ?? Greeting());
        var open = QmpClient.OpenAsync(client, TimeSpan.FromSeconds(5), "vm1", CancellationToken.None);
        await peer.AnswerAsync("qmp_capabilities");
        return (await open, peer);
    }

    /// <summary>A typed monitor on a QMP client from <see cref="OpenQmpAsync"/>.</summary>
    public static async Task<(QemuMonitor Monitor, ScriptedPeer Peer)> ConnectMonitorAsync(string? greeting = null)
    {
        var (qmp, peer) = await OpenQmpAsync(greeting);
        return (new QemuMonitor(qmp), peer);
    }

    /// <summary>A guest agent client for "vm1" whose first sync has been answered.</summary>
    public static async Task<(QgaClient Client, ScriptedPeer Peer)> OpenQgaAsync()
    {
        var (client, peer) = ScriptedPeer.CreatePair();
        var qga = QgaClient.Open(client, "vm1");
        var sync = qga.SyncAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        var (_, s) = await peer.ReadAsync();
        await peer.SendSyncReplyAsync(s["arguments"]!["id"]!.GetValue<long>());
        await sync;
        return (qga, peer);
    }

    /// <summary>The typed guest agent on a client from <see cref="OpenQgaAsync"/>.</summary>
    public static async Task<(QemuAgent Agent, ScriptedPeer Peer)> OpenAgentAsync()
    {
        var (qga, peer) = await OpenQgaAsync();
        return (new QemuAgent(qga, "vm1"), peer);
    }
}
