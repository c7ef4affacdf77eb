using System.Text;
using System.Text.Json.Nodes;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Agent;

namespace Virtuozzo.Engine.Tests.Qemu;

/// <summary>The guest agent client against a scripted fake agent.</summary>
public sealed class QgaClientTests
{
    [Fact]
    public async Task Sync_skips_stale_output_and_accepts_only_the_latest_id()
    {
        var (client, peer) = ScriptedPeer.CreatePair();
        await using var qga = QgaClient.Open(client, "vm1");
        var sync = qga.SyncAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        var (sentinel, first) = await peer.ReadAsync();
        Assert.True(sentinel);
        Assert.Equal("guest-sync-delimited", first["execute"]!.GetValue<string>());
        // Nothing answers the first attempt: the client retries with a fresh id.
        var (_, second) = await peer.ReadAsync(TimeSpan.FromSeconds(3));
        var id1 = first["arguments"]!["id"]!.GetValue<long>();
        var id2 = second["arguments"]!["id"]!.GetValue<long>();
        Assert.NotEqual(id1, id2);
        // A reply left over from an earlier client, then the late reply to the first attempt: both must be skipped.
        await peer.SendAsync("{\"return\": {\"pid\": 99}}\n");
        await peer.SendSyncReplyAsync(id1);
        // Answer the newest request; the client may have retried meanwhile, so follow its ids until it is done.
        var latest = id2;
        while (!sync.IsCompleted)
        {
            await peer.SendSyncReplyAsync(latest);
            try { latest = (await peer.ReadAsync(TimeSpan.FromSeconds(2))).Message["arguments"]!["id"]!.GetValue<long>(); }
            catch (OperationCanceledException) { }
        }
        await sync;
        var call = qga.ExecuteAsync("guest-ping", null, TimeSpan.FromSeconds(5), CancellationToken.None);
        var (s, ping) = await peer.ReadAsync();
        Assert.False(s);
        Assert.Equal("guest-ping", ping["execute"]!.GetValue<string>());
        await peer.SendAsync("{\"return\": {}}\n");
        // Had the client stopped at a stale sync reply, this would be a leftover number, not the ping's object.
        Assert.IsType<JsonObject>(await call);
    }

    [Fact]
    public async Task An_answer_to_an_earlier_sync_makes_the_client_ask_again_at_once()
    {
        // An agent that just came up answers what queued while it was down (here: an id of an earlier client). The
        // client must not sit out its retry interval (an hour here, so only the immediate resend can finish this).
        var (client, peer) = ScriptedPeer.CreatePair();
        await using var qga = QgaClient.Open(client, "vm1", TimeSpan.FromHours(1));
        var sync = qga.SyncAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        var (_, first) = await peer.ReadAsync();
        var id1 = first["arguments"]!["id"]!.GetValue<long>();
        await peer.SendSyncReplyAsync(id1 ^ 1);
        var (sentinel, second) = await peer.ReadAsync(TimeSpan.FromSeconds(20));
        Assert.True(sentinel);
        var id2 = second["arguments"]!["id"]!.GetValue<long>();
        Assert.NotEqual(id1, id2);
        await peer.SendSyncReplyAsync(id2);
        await sync;
    }

    [Fact]
    public async Task An_agent_that_never_answers_gives_a_not_responding_timeout_on_time()
    {
        var (client, server) = MemoryDuplexStream.CreatePair();
        await using var qga = QgaClient.Open(client, "vm1");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<VzTimeoutException>(() => qga.SyncAsync(TimeSpan.FromMilliseconds(700), CancellationToken.None));
        Assert.Equal("VzGuestAgentNotResponding", ex.ErrorId);
        Assert.Contains("not responding", ex.Message);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(650));
        // After a timeout the session is unusable: a late reply would be taken for the next command's.
        await Assert.ThrowsAsync<InvalidOperationException>(() => qga.ExecuteAsync("guest-ping", null, TimeSpan.FromSeconds(1), CancellationToken.None));
        server.Dispose();
    }

    [Fact]
    public async Task Agent_errors_become_typed_exceptions_and_passwords_travel_base64()
    {
        var (qga, peer) = await ScriptedQemu.OpenQgaAsync();
        await using var _q = qga;
        var password = "p \"q\" r  s'ü€";
        var call = qga.ExecuteAsync("guest-set-user-password", new JsonObject { ["username"] = "root", ["password"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(password)), ["crypted"] = false }, TimeSpan.FromSeconds(5), CancellationToken.None);
        var (_, req) = await peer.ReadAsync();
        Assert.Equal(password, Encoding.UTF8.GetString(Convert.FromBase64String(req["arguments"]!["password"]!.GetValue<string>())));
        await peer.SendAsync("{\"error\": {\"class\": \"GenericError\", \"desc\": \"child process has failed to set user password\"}}\n");
        var ex = await Assert.ThrowsAsync<QgaException>(() => call);
        Assert.Equal("VzGuestAgentCommandFailed", ex.ErrorId);
    }
}
