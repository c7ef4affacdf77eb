using System.Diagnostics;
using System.Text.Json;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Migration;

/// <summary>
/// One ssh session to the destination's migration agent (<c>migrate-agent session</c>) that carries every verb of a
/// move as JSON lines, one request and its answer at a time. Opened before the source's own checks, so the ssh
/// handshake, the destination's login shell and the agent's start-up overlap them; at the switchover the commit is
/// one line to a process that is already running. Every call is timed out; a call that times out or finds the
/// session gone ends the session, and the move rolls back over fresh one-shot calls.
/// </summary>
public sealed class AgentSession : IAsyncDisposable
{
    private readonly RemoteAgent agent;
    private readonly Process process;
    private readonly Task<string> stderr;
    private readonly SemaphoreSlim gate = new(1, 1);

    internal AgentSession(RemoteAgent agent, Process process)
    {
        this.agent = agent;
        this.process = process;
        stderr = process.StandardError.ReadToEndAsync();
    }

    public async Task<TReply> CallAsync<TReply>(string verb, IReadOnlyList<string> args, object? request, TimeSpan timeout, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            var line = JsonSerializer.Serialize(new AgentSessionRequest
            {
                Verb = verb, Args = [.. args], Request = request is null ? null : JsonSerializer.SerializeToElement(request, AgentJson.Options),
            }, AgentJson.Options);
            string? answer;
            using (var cts = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                cts.CancelAfter(timeout);
                try
                {
                    await process.StandardInput.WriteLineAsync(line.AsMemory(), cts.Token);
                    await process.StandardInput.FlushAsync(cts.Token);
                    answer = await process.StandardOutput.ReadLineAsync(cts.Token);
                }
                catch (IOException) { answer = null; /* the session ended: its exit code and stderr say why */ }
                catch (OperationCanceledException)
                {
                    End();
                    ct.ThrowIfCancellationRequested();
                    throw new VzTimeoutException("VzMigrationAgentTimeout", $"The destination's migration agent ({verb}) did not answer within {timeout.TotalSeconds:0} s.", verb, timeout);
                }
            }
            if (answer is null) throw await EndedAsync(verb);
            AgentSessionReply? reply;
            try { reply = JsonSerializer.Deserialize<AgentSessionReply>(answer, AgentJson.Options); }
            catch (JsonException ex)
            {
                End();
                throw new VzExternalToolException("ssh", [agent.Ssh.Destination.HostName, RemoteAgent.Verb, verb], 0, $"the agent's answer is not valid JSON: {ex.Message}", agent.Ssh.Destination.ToString());
            }
            if (reply?.Error is { } error) throw RemoteAgent.ToException(error);
            return reply?.Reply is { } r ? r.Deserialize<TReply>(AgentJson.Options)! : default!;
        }
        finally { gate.Release(); }
    }

    /// <summary>The error for a session that ended under a call: ssh's own failure, or the agent's last words.</summary>
    private async Task<VzException> EndedAsync(string verb)
    {
        try { await RemoteAgent.WaitAsync(process, TimeSpan.FromSeconds(5), verb, CancellationToken.None); } catch (VzException) { }
        var error = await stderr;
        var code = process.HasExited ? process.ExitCode : -1;
        if (code == 255) return agent.Ssh.ConnectionError(error);
        return new VzExternalToolException("ssh", [agent.Ssh.Destination.HostName, RemoteAgent.Verb, verb], code,
            error.Trim() is { Length: > 0 } t ? t : "the migration agent's session ended without an answer (is the module installed at the same path on the destination?)",
            agent.Ssh.Destination.ToString());
    }

    private void End()
    {
        try { if (!process.HasExited) process.Kill(true); } catch (InvalidOperationException) { }
    }

    /// <summary>
    /// Closes the session: end of input ends the agent. One that does not end soon (a cut wire holds it until
    /// ssh's keep-alive gives up) is killed; nothing waits on it any more.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try { process.StandardInput.Close(); } catch (IOException) { }
        try { await RemoteAgent.WaitAsync(process, TimeSpan.FromSeconds(3), "session", CancellationToken.None); } catch (VzException) { }
        process.Dispose();
        gate.Dispose();
    }
}
