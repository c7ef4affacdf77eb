using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
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
        await using var agent = await VmService.OpenAgentAsync(rt, name, timeout, cancellationToken);
        var pid = await agent.GuestExecAsync(path, arguments, stdin, Left(timeout, watch), cancellationToken);
        logger.LogDebug("guest-exec {Path} in '{Name}': guest pid {Pid}", path, name, pid);
        var delay = 20;
        while (true)
        {
            var status = await agent.GuestExecStatusAsync(pid, Left(timeout, watch), cancellationToken);
            if (status.Exited)
            {
                return new GuestExecResult
                {
                    VmName = name,
                    Command = arguments.Count == 0 ? path : path + " " + string.Join(' ', arguments),
                    ExitCode = status.ExitCode,
                    Signal = status.Signal,
                    StdOut = status.StdOut,
                    StdErr = status.StdErr,
                    OutputTruncated = status.OutputTruncated,
                    Duration = watch.Elapsed,
                };
            }
            if (watch.Elapsed >= timeout)
                throw new VzTimeoutException("VzGuestCommandTimeout", $"'{path}' (guest pid {pid}) did not finish in '{name}' within {timeout.TotalSeconds:0.#} s; it may still be running in the guest.", name, timeout)
                { RecommendedAction = "Raise -Timeout, or run long jobs in the background in the guest." };
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(delay, Math.Max(1, Left(timeout, watch).TotalMilliseconds))), cancellationToken);
            delay = Math.Min(delay * 2, 250);
        }
    }

    /// <summary>
    /// Sets a guest user's password. The password goes to the agent base64-encoded (so quotes, spaces and any
    /// Unicode pass unchanged), is never logged, and its plain bytes are cleared after sending.
    /// </summary>
    public async Task SetUserPasswordAsync(Guid id, string userName, SecureString password, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (rt, name) = vms.Running(id);
        if (string.IsNullOrEmpty(userName) || userName.Contains(':') || userName.Contains('\n'))
            throw new VzInvalidArgumentException("VzInvalidUserName", $"'{userName}' is not a valid user name.", name, "UserName");
        var encoded = EncodePassword(password, name);
        try
        {
            await using (var agent = await VmService.OpenAgentAsync(rt, name, timeout, cancellationToken))
                await agent.GuestSetUserPasswordAsync(userName, encoded, timeout, cancellationToken);
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
        await using var agent = await VmService.OpenAgentAsync(rt, name, timeout, cancellationToken);
        async Task<T?> Try<T>(Func<Task<T>> call)
        {
            try { return await call(); }
            catch (QgaException) { return default; } // an older agent or a guest without the facility
        }
        var info = await Try(() => agent.GuestInfoAsync(timeout, cancellationToken));
        var os = await Try(() => agent.GuestGetOsinfoAsync(timeout, cancellationToken)) ?? new GuestInfo { VmName = name };
        var hostName = await Try(() => agent.GuestGetHostNameAsync(timeout, cancellationToken));
        var tz = await Try(() => agent.GuestGetTimezoneAsync(timeout, cancellationToken));
        var cpus = await Try(() => agent.GuestGetVcpusOnlineAsync(timeout, cancellationToken));
        var disks = await Try(() => agent.GuestGetDisksAsync(timeout, cancellationToken));
        return os with
        {
            AgentVersion = info.Version,
            HostName = hostName,
            TimeZone = tz.Zone,
            TimeZoneOffsetSeconds = tz.OffsetSeconds,
            OnlineCpuCount = cpus,
            Disks = disks ?? [],
            SupportedCommands = info.EnabledCommands ?? [],
        };
    }

    public async Task<IReadOnlyList<GuestNetworkInterface>> GetNetworkAsync(Guid id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (rt, name) = vms.Running(id);
        await using var agent = await VmService.OpenAgentAsync(rt, name, timeout, cancellationToken);
        return await agent.GuestNetworkGetInterfacesAsync(timeout, cancellationToken);
    }

    private static TimeSpan Left(TimeSpan timeout, Stopwatch watch)
    {
        var left = timeout - watch.Elapsed;
        return left > TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100);
    }
}
