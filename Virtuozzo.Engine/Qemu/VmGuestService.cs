using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Agent;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Guest tools over the QEMU guest agent: run programs, set passwords, read OS and network facts.</summary>
public sealed class VmGuestService(VmService vms, ILogger logger)
{
    /// <summary>Bound on stdin handed to guest-exec (the agent holds it in memory).</summary>
    public const int MaxStdinBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Runs <paramref name="path"/> in the guest and waits for it: exit code, stdout, stderr. The whole call,
    /// connecting and waiting for the agent included, is bounded by <paramref name="timeout"/>.
    /// </summary>
    public async Task<GuestExecResult> ExecAsync(Guid id, string path, IReadOnlyList<string> arguments, string? stdin, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (rt, name) = vms.Running(id);
        if (stdin is not null && Encoding.UTF8.GetByteCount(stdin) > MaxStdinBytes)
            throw new VzInvalidArgumentException("VzGuestInputTooLarge", $"Standard input for a guest command is limited to {MaxStdinBytes / (1024 * 1024)} MiB.", name, "InputObject");
        var watch = Stopwatch.StartNew();
        return await VmConnections.WithAgentAsync(rt, name, timeout, async qga =>
        {
            var args = new JsonObject
            {
                ["path"] = path,
                ["arg"] = new JsonArray(arguments.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
                ["capture-output"] = true,
            };
            if (stdin is not null) args["input-data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(stdin));
            var started = await qga.ExecuteAsync("guest-exec", args, Left(timeout, watch), cancellationToken);
            var pid = started?["pid"]?.GetValue<long>() ?? throw new InvalidDataException("guest-exec returned no pid.");
            logger.LogDebug("guest-exec {Path} in '{Name}': guest pid {Pid}", path, name, pid);
            var delay = 20;
            while (true)
            {
                var status = await qga.ExecuteAsync("guest-exec-status", new JsonObject { ["pid"] = pid }, Left(timeout, watch), cancellationToken) as JsonObject
                             ?? throw new InvalidDataException("guest-exec-status returned no object.");
                if (status["exited"]?.GetValue<bool>() == true)
                {
                    int? signal = status["signal"] is JsonValue s ? s.GetValue<int>() : null;
                    return new GuestExecResult
                    {
                        VmName = name,
                        Command = arguments.Count == 0 ? path : path + " " + string.Join(' ', arguments),
                        ExitCode = status["exitcode"] is JsonValue e ? e.GetValue<int>() : -1,
                        Signal = signal,
                        StdOut = Decode(status["out-data"]),
                        StdErr = Decode(status["err-data"]),
                        OutputTruncated = status["out-truncated"]?.GetValue<bool>() == true || status["err-truncated"]?.GetValue<bool>() == true,
                        Duration = watch.Elapsed,
                    };
                }
                if (watch.Elapsed >= timeout)
                    throw new VzTimeoutException("VzGuestCommandTimeout", $"'{path}' (guest pid {pid}) did not finish in '{name}' within {timeout.TotalSeconds:0.#} s; it may still be running in the guest.", name, timeout)
                    { RecommendedAction = "Raise -Timeout, or run long jobs in the background in the guest." };
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(delay, Math.Max(1, Left(timeout, watch).TotalMilliseconds))), cancellationToken);
                delay = Math.Min(delay * 2, 250);
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Sets a guest user's password. The password goes to the agent base64-encoded (so quotes, spaces and any
    /// Unicode pass unchanged), is never logged, and its plain bytes are cleared after sending.
    /// </summary>
    public async Task SetUserPasswordAsync(Guid id, string userName, SecureString password, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Checked before anything else: the agent would set an empty hash, and the user would log in with no password.
        if (password.Length == 0)
            throw new VzInvalidArgumentException("VzEmptyPassword", $"An empty password for '{userName}' would let anyone log in as that user without one; it is refused.", null, "Password")
            { RecommendedAction = "Give a non-empty password (Read-Host -AsSecureString, or ConvertTo-SecureString)." };
        var (rt, name) = vms.Running(id);
        if (string.IsNullOrEmpty(userName) || userName.Contains(':') || userName.Contains('\n'))
            throw new VzInvalidArgumentException("VzInvalidUserName", $"'{userName}' is not a valid user name.", name, "UserName");
        var encoded = EncodePassword(password, name);
        try
        {
            await VmConnections.WithAgentAsync(rt, name, timeout, qga =>
                qga.ExecuteAsync("guest-set-user-password", new JsonObject { ["username"] = userName, ["password"] = encoded, ["crypted"] = false }, timeout, cancellationToken), cancellationToken);
            logger.LogInformation("Set the password of user '{User}' in '{Name}'.", userName, name);
        }
        finally { encoded = ""; }
    }

    private static string EncodePassword(SecureString password, string name)
    {
        var ptr = Marshal.SecureStringToGlobalAllocUnicode(password);
        char[] chars = new char[password.Length];
        byte[]? bytes = null;
        try
        {
            Marshal.Copy(ptr, chars, 0, chars.Length);
            if (Array.IndexOf(chars, '\n') >= 0 || Array.IndexOf(chars, '\r') >= 0)
                throw new VzInvalidArgumentException("VzInvalidPassword", "A password cannot contain a line break (the guest's chpasswd reads one line per user).", name, "Password");
            bytes = Encoding.UTF8.GetBytes(chars);
            return Convert.ToBase64String(bytes);
        }
        finally
        {
            Array.Clear(chars);
            if (bytes is not null) Array.Clear(bytes);
            Marshal.ZeroFreeGlobalAllocUnicode(ptr);
        }
    }

    public async Task<GuestInfo> GetInfoAsync(Guid id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (rt, name) = vms.Running(id);
        return await VmConnections.WithAgentAsync(rt, name, timeout, async qga =>
        {
            async Task<JsonNode?> Try(string cmd)
            {
                try { return await qga.ExecuteAsync(cmd, null, timeout, cancellationToken); }
                catch (QgaException) { return null; } // an older agent or a guest without the facility
            }
            var info = await Try("guest-info");
            var os = await Try("guest-get-osinfo");
            var host = await Try("guest-get-host-name");
            var tz = await Try("guest-get-timezone");
            var cpus = await Try("guest-get-vcpus") as JsonArray;
            var disks = await Try("guest-get-disks") as JsonArray;
            return new GuestInfo
            {
                VmName = name,
                AgentVersion = Str(info?["version"]),
                OsName = Str(os?["pretty-name"]) ?? Str(os?["name"]),
                OsVersion = Str(os?["version"]),
                KernelRelease = Str(os?["kernel-release"]),
                KernelVersion = Str(os?["kernel-version"]),
                Machine = Str(os?["machine"]),
                HostName = Str(host?["host-name"]),
                TimeZone = Str(tz?["zone"]),
                TimeZoneOffsetSeconds = tz?["offset"] is JsonValue off ? off.GetValue<int>() : null,
                OnlineCpuCount = cpus?.Count(c => c?["online"]?.GetValue<bool>() == true) ?? 0,
                Disks = disks?.Select(d => Str(d?["name"]) ?? "").Where(d => d.Length > 0).ToList() ?? [],
                SupportedCommands = (info?["supported_commands"] as JsonArray)?.Where(c => c?["enabled"]?.GetValue<bool>() == true)
                    .Select(c => Str(c?["name"]) ?? "").ToList() ?? [],
            };
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<GuestNetworkInterface>> GetNetworkAsync(Guid id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (rt, name) = vms.Running(id);
        return await VmConnections.WithAgentAsync(rt, name, timeout, async qga =>
        {
            var list = await qga.ExecuteAsync("guest-network-get-interfaces", null, timeout, cancellationToken) as JsonArray ?? [];
            return (IReadOnlyList<GuestNetworkInterface>)list.OfType<JsonObject>().Select(i => new GuestNetworkInterface
            {
                VmName = name,
                Name = Str(i["name"]) ?? "",
                MacAddress = Str(i["hardware-address"]),
                IPAddresses = (i["ip-addresses"] as JsonArray ?? []).OfType<JsonObject>()
                    .Select(a => $"{Str(a["ip-address"])}/{a["prefix"]}").ToList(),
            }).ToList();
        }, cancellationToken);
    }

    private static TimeSpan Left(TimeSpan timeout, Stopwatch watch)
    {
        var left = timeout - watch.Elapsed;
        return left > TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100);
    }

    private static string Decode(JsonNode? base64)
    {
        if (base64 is not JsonValue v || !v.TryGetValue<string>(out var s) || s.Length == 0) return "";
        try { return Encoding.UTF8.GetString(Convert.FromBase64String(s)); }
        catch (FormatException) { return ""; }
    }

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
