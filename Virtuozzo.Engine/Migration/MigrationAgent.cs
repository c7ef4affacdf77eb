using System.Diagnostics;
using System.Text.Json;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Migration;

/// <summary>
/// The destination side of a move, run as <c>Virtuozzo.HostService migrate-agent VERB</c> through ssh by the source
/// (<see cref="RemoteAgent"/>): probe (checks only), prepare (register the VE with its id and settings, and for a
/// live VM start the paused incoming QEMU with NBD exports), receive (a tar of the VE's folder on stdin), commit
/// (let it run here) and abort (remove everything prepare made). Every VE it makes carries an <c>.incoming</c>
/// marker until commit, and abort removes only VEs with that marker, so it can never delete a VE of its own host.
/// </summary>
public sealed class MigrationAgent(VzEngine engine)
{
    public const string IncomingMarkerName = ".incoming";

    /// <summary>Runs one verb; writes its JSON answer (or an <see cref="AgentError"/>) to <paramref name="output"/>.</summary>
    public async Task<int> RunAsync(IReadOnlyList<string> args, Stream input, TextWriter output, CancellationToken ct)
    {
        if (args.FirstOrDefault() == "session") return await RunSessionAsync(input, output, ct);
        var (reply, failed) = await DispatchAsync(args, () => input, ct);
        await output.WriteAsync(JsonSerializer.Serialize(reply, AgentJson.Options));
        return failed ? 1 : 0;
    }

    /// <summary>
    /// One ssh session for a whole move: requests and answers as JSON lines (<see cref="AgentSessionRequest"/>,
    /// <see cref="AgentSessionReply"/>), one at a time, until the source closes its end. Every remote command costs
    /// the destination's login shell and this process's start-up (on the test machine over a second each); a
    /// session started while the source checks pays them once, and the commit at the switchover is one line on a
    /// warm process. End of input ends the session; what a prepare made stays for the source's commit or abort.
    /// </summary>
    private async Task<int> RunSessionAsync(Stream input, TextWriter output, CancellationToken ct)
    {
        using var reader = new StreamReader(input);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0) continue;
            AgentSessionRequest? request = null;
            try { request = JsonSerializer.Deserialize<AgentSessionRequest>(line, AgentJson.Options); }
            catch (JsonException) { }
            var (reply, failed) = request is null || request.Verb is "receive" or "session"
                ? (new AgentError(nameof(VzInvalidArgumentException), "VzMigrationAgentArgument", "Not a session request.", null, null), true)
                : await DispatchAsync([request.Verb, .. request.Args], () => new MemoryStream(System.Text.Encoding.UTF8.GetBytes(request.Request?.GetRawText() ?? "")), ct);
            var answer = failed ? new AgentSessionReply { Error = (AgentError)reply } : new AgentSessionReply { Reply = JsonSerializer.SerializeToElement(reply, AgentJson.Options) };
            await output.WriteLineAsync(JsonSerializer.Serialize(answer, AgentJson.Options));
            await output.FlushAsync(ct);
        }
        return 0;
    }

    private async Task<(object Reply, bool Failed)> DispatchAsync(IReadOnlyList<string> args, Func<Stream> input, CancellationToken ct)
    {
        try
        {
            object reply = args.FirstOrDefault() switch
            {
                "probe" => await ProbeAsync(Read<AgentProbeRequest>(input()), ct),
                "prepare" => await PrepareAsync(Read<AgentPrepareRequest>(input()), ct),
                "receive" => await ReceiveAsync(ParseId(args), input(), ct),
                "commit" => await CommitAsync(ParseId(args), args.Contains("--start"), ct),
                "abort" => await AbortAsync(ParseId(args)),
                var v => throw new VzInvalidArgumentException("VzMigrationAgentVerb", $"Unknown migration agent verb '{v}'.", v ?? ""),
            };
            return (reply, false);
        }
        catch (VzException ex)
        {
            return (new AgentError(ex.GetType().Name, ex.ErrorId, ex.Message, ex.RecommendedAction, ex.Target?.ToString()), true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return (new AgentError(ex.GetType().Name, "VzMigrationAgentFailed", ex.Message, null, null), true);
        }
    }

    private static Guid ParseId(IReadOnlyList<string> args) =>
        args.Count > 1 && Guid.TryParse(args[1], out var id) ? id : throw new VzInvalidArgumentException("VzMigrationAgentArgument", "The agent needs the VE id.", "");

    private static T Read<T>(Stream input)
    {
        using var reader = new StreamReader(input);
        var text = reader.ReadToEnd();
        if (text.Length > 8 * 1024 * 1024) throw new VzInvalidArgumentException("VzMigrationAgentArgument", "The request is too large.", "");
        return JsonSerializer.Deserialize<T>(text, AgentJson.Options) ?? throw new VzInvalidArgumentException("VzMigrationAgentArgument", "Empty request.", "");
    }

    private static VeConfig ParseConfig(string yaml) => VeConfigFile.Parse("(sent by the source)", yaml);

    private async Task<AgentProbeReply> ProbeAsync(AgentProbeRequest request, CancellationToken ct)
    {
        var config = ParseConfig(request.ConfigYaml);
        var caps = await engine.Host.GetAsync(false, ct);
        var identity = HostIdentity.Of(engine.Paths);
        var free = FreeBytes(engine.Paths.DataRoot);
        var found = MigrationChecks.Destination(engine, config, request, caps, identity, free);
        var live = config.Type == VeType.VirtualMachine && request.Mode == MigrationMode.Live ? engine.Vms.RuntimePaths(config.Id) : null;
        return new AgentProbeReply
        {
            HostIdentity = identity, DataRoot = engine.Paths.DataRoot, QemuVersion = caps.QemuVersion,
            Accelerator = caps.Accelerator.ToString(), FreeBytes = free, Incompatibilities = [.. found],
            IncomingNbdSocket = live is null ? null : VmService.IncomingNbdSocket(live),
            IncomingMigrationSocket = live is null ? null : VmService.IncomingMigrationSocket(live),
        };
    }

    internal static long FreeBytes(string path)
    {
        var dir = path;
        while (!Directory.Exists(dir) && Path.GetDirectoryName(dir) is { } parent) dir = parent;
        return new DriveInfo(dir).AvailableFreeSpace;
    }

    private async Task<AgentPrepareReply> PrepareAsync(AgentPrepareRequest request, CancellationToken ct)
    {
        var config = ParseConfig(request.ConfigYaml);
        // The probe ran before, but hosts change: the two hard conditions are checked again under the registry lock
        // (BeginCreate refuses a name or id in use) and by admission.
        if (config.Type == VeType.VirtualMachine && request.Mode == MigrationMode.Live) engine.Memory.Admit(config);
        // What an earlier attempt left when its source could not reach this host to abort it: removed first.
        if (IsIncomingLeftover(config.Id)) await AbortAsync(config.Id);
        var record = engine.Store.BeginCreate(config, ct);
        File.WriteAllText(Path.Combine(record.Directory, IncomingMarkerName), "");
        try
        {
            if (config.Type == VeType.VirtualMachine && request.Mode == MigrationMode.Live)
            {
                foreach (var d in config.Vm!.Disks)
                {
                    var path = engine.Vms.ResolvePath(config.Id, d.Path);
                    if (!path.StartsWith(record.Directory + "/", StringComparison.Ordinal))
                        throw new VzInvalidArgumentException("VzMigrationDiskOutsideVe", $"The disk '{d.Id}' lives outside the VM's folder ({d.Path}); only disks in the VM folder move.", d.Id);
                    var size = request.DiskSizes.TryGetValue(d.Id, out var s) ? s : throw new VzInvalidArgumentException("VzMigrationAgentArgument", $"No size for disk '{d.Id}'.", d.Id);
                    await engine.Runner.RunAsync("qemu-img", ["create", "-q", "-f", d.Format, path, size.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                        new Processes.ProcessRunOptions { Target = config.Name }, ct);
                }
                await engine.Vms.StartIncomingAsync(config.Id, ct);
                var rt = engine.Vms.RuntimePaths(config.Id);
                return new AgentPrepareReply { VeDirectory = record.Directory, NbdSocket = VmService.IncomingNbdSocket(rt), MigrationSocket = VmService.IncomingMigrationSocket(rt) };
            }
            return new AgentPrepareReply { VeDirectory = record.Directory };
        }
        catch
        {
            await AbortAsync(config.Id);
            throw;
        }
    }

    private async Task<object> ReceiveAsync(Guid id, Stream input, CancellationToken ct)
    {
        var dir = RequireIncoming(id);
        var psi = new ProcessStartInfo("tar") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-C", dir, "--numeric-owner", "--same-permissions", "--xattrs", "--xattrs-include=*", "--acls", "-xf", "-" }) psi.ArgumentList.Add(a);
        using var tar = Process.Start(psi)!;
        var err = tar.StandardError.ReadToEndAsync(ct);
        await input.CopyToAsync(tar.StandardInput.BaseStream, 1 << 20, ct);
        tar.StandardInput.Close();
        await tar.WaitForExitAsync(ct);
        if (tar.ExitCode != 0) throw new VzExternalToolException("tar", [.. psi.ArgumentList], tar.ExitCode, await err, id);
        return new { received = true };
    }

    private async Task<object> CommitAsync(Guid id, bool start, CancellationToken ct)
    {
        var dir = RequireIncoming(id);
        var config = engine.Store.TryGet(id)?.Config ?? throw new VzNotFoundException("VzVeNotFound", $"No VE {id} here.", id);
        if (config.Type == VeType.VirtualMachine)
        {
            if (Qemu.Process.QemuProcess.Inspect(engine.Vms.RuntimePaths(id)).Alive) await engine.Vms.FinishIncomingAsync(id, ct);
            else
                foreach (var d in config.Vm!.Disks.Where(d => d.Format == "qcow2"))
                    await engine.Runner.RunAsync("qemu-img", ["check", "-q", engine.Vms.ResolvePath(id, d.Path)], new Processes.ProcessRunOptions { Target = config.Name, Timeout = TimeSpan.FromMinutes(5) }, ct);
        }
        engine.Store.CompleteCreation(id);
        File.Delete(Path.Combine(dir, IncomingMarkerName));
        if (start && config.Type == VeType.Container) await engine.Containers.StartAsync(id, null, ct);
        if (start && config.Type == VeType.VirtualMachine && !Qemu.Process.QemuProcess.Inspect(engine.Vms.RuntimePaths(id)).Alive)
            await engine.Vms.StartAsync(id, false, TimeSpan.FromSeconds(60), null, ct);
        return new { committed = true };
    }

    private async Task<object> AbortAsync(Guid id)
    {
        var dir = engine.Paths.VeDirectory(id);
        if (!Directory.Exists(dir)) return new { aborted = false };
        if (!File.Exists(Path.Combine(dir, IncomingMarkerName)))
            throw new VzInvalidStateException("VzMigrationNotIncoming", $"The VE {id} on this host is not an unfinished incoming migration; it is left alone.", id);
        if (engine.Store.TryGet(id)?.Config?.Type == VeType.Container)
        {
            try { await engine.Containers.StopAsync(id, true, TimeSpan.FromSeconds(10), CancellationToken.None); } catch (VzException) { }
        }
        else await engine.Vms.StopIncomingAsync(id);
        var trash = Path.Combine(engine.Paths.PrivateRoot, $".trash-{id:N}-{Environment.ProcessId}");
        Directory.Move(dir, trash);
        Directory.Delete(trash, recursive: true);
        return new { aborted = true };
    }

    /// <summary>An unfinished incoming VE of an earlier attempt (marker present); a new attempt replaces it.</summary>
    internal bool IsIncomingLeftover(Guid id) => File.Exists(Path.Combine(engine.Paths.VeDirectory(id), IncomingMarkerName));

    private string RequireIncoming(Guid id)
    {
        var dir = engine.Paths.VeDirectory(id);
        if (!File.Exists(Path.Combine(dir, IncomingMarkerName)))
            throw new VzInvalidStateException("VzMigrationNotIncoming", $"The VE {id} is not being received by this host.", id);
        return dir;
    }
}
