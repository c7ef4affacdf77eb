using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Migration;

/// <summary>
/// The destination's migration agent as the source sees it: each call is one ssh session running the engine's small
/// CLI verb (<c>Virtuozzo.HostService migrate-agent VERB</c>) on the destination, JSON in on stdin and out on stdout.
/// A .NET process, not pwsh: the engine has no PowerShell dependency and a verb starts in a fraction of pwsh's
/// start-up, which matters inside a migration's critical section. The agent runs with the destination's own
/// data root and run folder: the source never touches them, it only sends the VE.
/// </summary>
public sealed class RemoteAgent(SshTransport ssh, IReadOnlyList<string> agentCommand)
{
    public const string Verb = "migrate-agent";

    public SshTransport Ssh => ssh;

    public async Task<TReply> CallAsync<TReply>(string verb, IReadOnlyList<string> args, object? request, TimeSpan timeout, CancellationToken ct)
    {
        using var p = ssh.Start([.. agentCommand, Verb, verb, .. args]);
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        try
        {
            if (request is not null) await p.StandardInput.WriteAsync(JsonSerializer.Serialize(request, AgentJson.Options));
            p.StandardInput.Close();
        }
        catch (IOException) { /* ssh already gave up (unreachable host, refused key): its exit code and stderr say why */ }
        await WaitAsync(p, timeout, verb, ct);
        var output = await stdout;
        var error = await stderr;
        return Parse<TReply>(p.ExitCode, output, error, verb);
    }

    /// <summary>
    /// Opens one agent session for a whole move (see <see cref="AgentSession"/>): the ssh handshake, the destination's
    /// login shell and the agent's start-up begin now and are paid once for all the move's verbs.
    /// </summary>
    public AgentSession OpenSession() => new(this, ssh.Start([.. agentCommand, Verb, "session"]));

    /// <summary>
    /// Streams a folder to the agent's receive verb as a tar (sparse files, xattrs, ACLs, hard links, device nodes
    /// and numeric owners kept). Returns the bytes sent.
    /// </summary>
    public async Task<long> SendTreeAsync(Guid id, string directory, IReadOnlyList<string> exclude, TimeSpan timeout, CancellationToken ct)
    {
        var tarPsi = new ProcessStartInfo("tar") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-C", directory, "--numeric-owner", "--sparse", "--xattrs", "--xattrs-include=*", "--acls", "-cf", "-" }) tarPsi.ArgumentList.Add(a);
        foreach (var e in exclude) tarPsi.ArgumentList.Add("--exclude=" + e);
        tarPsi.ArgumentList.Add(".");
        using var tar = Process.Start(tarPsi)!;
        using var p = ssh.Start([.. agentCommand, Verb, "receive", id.ToString("D")]);
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        var tarErr = tar.StandardError.ReadToEndAsync(ct);
        long sent = 0;
        var buffer = new byte[1 << 20];
        try
        {
            int n;
            while ((n = await tar.StandardOutput.BaseStream.ReadAsync(buffer, ct)) > 0)
            {
                await p.StandardInput.BaseStream.WriteAsync(buffer.AsMemory(0, n), ct);
                sent += n;
            }
        }
        catch (IOException) { /* the receiver went away: its exit code and stderr say why */ }
        finally
        {
            try { p.StandardInput.Close(); } catch (IOException) { }
        }
        await WaitAsync(tar, timeout, "tar", ct);
        await WaitAsync(p, timeout, "receive", ct);
        var te = await tarErr;
        if (tar.ExitCode is not (0 or 1)) // 1: a file changed while read (the live pre-copy of a running container)
            throw new VzExternalToolException("tar", tarPsi.ArgumentList.ToArray(), tar.ExitCode, te, directory);
        Parse<JsonElement>(p.ExitCode, await stdout, await stderr, "receive");
        return sent;
    }

    /// <summary>
    /// Brings a folder on the destination (one the agent made and named) up to date with a local one: rsync over the
    /// same ssh, deleting what no longer exists here, keeping hard links, ACLs, xattrs, device nodes, sparse files and
    /// numeric owners. Run once while a container runs and once after it stopped, the second pass sends only the
    /// changes. The destination's own markers are left alone.
    /// </summary>
    public async Task SyncTreeAsync(string directory, string remoteDirectory, TimeSpan timeout, CancellationToken ct)
    {
        var shell = string.Join(' ', new[] { "ssh" }.Concat(ssh.BaseArguments()).Select(SshTransport.ShellQuote));
        var r = await new Processes.ProcessRunner(Microsoft.Extensions.Logging.Abstractions.NullLogger<Processes.ProcessRunner>.Instance).RunAsync("rsync",
            ["-aHAX", "--numeric-ids", "--sparse", "--delete", "--exclude=/.lock", "--exclude=/" + MigrationAgent.IncomingMarkerName,
             "--exclude=/" + Store.CreationMarker.FileName, "-e", shell, directory.TrimEnd('/') + "/", $"{ssh.Destination.HostName}:{remoteDirectory.TrimEnd('/')}/"],
            new Processes.ProcessRunOptions { Timeout = timeout, Target = directory, ThrowOnFailure = false }, ct);
        // 24: files vanished while read (the live pre-copy of a running container); the pass after the stop is exact.
        if (r.ExitCode is not (0 or 24))
        {
            if (r.ExitCode == 255 || r.StandardError.Contains("connection unexpectedly closed", StringComparison.Ordinal)) throw ssh.ConnectionError(r.StandardError);
            throw new VzExternalToolException("rsync", [directory, remoteDirectory], r.ExitCode, r.StandardError, directory);
        }
    }

    internal static async Task WaitAsync(Process p, TimeSpan timeout, string what, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            try { p.Kill(true); } catch (InvalidOperationException) { }
            ct.ThrowIfCancellationRequested();
            throw new VzTimeoutException("VzMigrationAgentTimeout", $"The destination's migration agent ({what}) did not answer within {timeout.TotalSeconds:0} s.", what, timeout);
        }
    }

    internal TReply Parse<TReply>(int exitCode, string output, string error, string verb)
    {
        if (exitCode == 255) throw ssh.ConnectionError(error);
        var text = output.Trim();
        if (exitCode != 0)
        {
            AgentError? e = null;
            try { e = text.Length > 0 ? JsonSerializer.Deserialize<AgentError>(text, AgentJson.Options) : null; } catch (JsonException) { }
            if (e is null)
                throw new VzExternalToolException("ssh", [ssh.Destination.HostName, Verb, verb], exitCode,
                    (error.Length > 0 ? error : text).Trim() is { Length: > 0 } t ? t : "the migration agent failed without a message (is the module installed at the same path on the destination?)", ssh.Destination.ToString());
            throw ToException(e);
        }
        try { return JsonSerializer.Deserialize<TReply>(text, AgentJson.Options)!; }
        catch (JsonException ex)
        {
            throw new VzExternalToolException("ssh", [ssh.Destination.HostName, Verb, verb], exitCode, $"the agent's answer is not valid JSON: {ex.Message}", ssh.Destination.ToString());
        }
    }

    /// <summary>The destination's typed error, raised again here with the same id and kind.</summary>
    internal static VzException ToException(AgentError e)
    {
        var target = e.Target ?? "";
        VzException ex = e.Kind switch
        {
            nameof(VzAlreadyExistsException) => new VzAlreadyExistsException(e.ErrorId, e.Message, target),
            nameof(VzNotFoundException) => new VzNotFoundException(e.ErrorId, e.Message, target),
            nameof(VzInsufficientResourcesException) => new VzInsufficientResourcesException(e.ErrorId, e.Message, target),
            nameof(VzInvalidArgumentException) => new VzInvalidArgumentException(e.ErrorId, e.Message, target),
            nameof(VzUnavailableException) => new VzUnavailableException(e.ErrorId, e.Message, target),
            _ => new VzInvalidStateException(e.ErrorId, "On the destination: " + e.Message, target),
        };
        return e.RecommendedAction is null ? ex : WithAction(ex, e.RecommendedAction);
    }

    private static VzException WithAction(VzException ex, string action) => ex switch
    {
        VzAlreadyExistsException a => new VzAlreadyExistsException(a.ErrorId, a.Message, a.Target) { RecommendedAction = action },
        VzNotFoundException a => new VzNotFoundException(a.ErrorId, a.Message, a.Target) { RecommendedAction = action },
        VzInsufficientResourcesException a => new VzInsufficientResourcesException(a.ErrorId, a.Message, a.Target) { RecommendedAction = action },
        VzInvalidArgumentException a => new VzInvalidArgumentException(a.ErrorId, a.Message, a.Target) { RecommendedAction = action },
        VzUnavailableException a => new VzUnavailableException(a.ErrorId, a.Message, a.Target) { RecommendedAction = action },
        _ => new VzInvalidStateException(ex.ErrorId, ex.Message, ex.Target) { RecommendedAction = action },
    };
}
