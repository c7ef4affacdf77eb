using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Agent;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Guest tools over the QEMU guest agent: run programs, set passwords, read OS and network facts.</summary>
public sealed partial class VmGuestService(VmService vms, ILogger logger)
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
        long pid;
        try { pid = await agent.GuestExecAsync(path, arguments, stdin, Left(timeout, watch), cancellationToken); }
        catch (QgaException ex) when (GuestErrors.IsNoSuchFile(ex))
        {
            throw new VzNotFoundException("VzGuestCommandNotFound", $"There is no program '{path}' in the VM '{name}'.", name)
            { RecommendedAction = "Give the full path of a program in the guest (for example /bin/sh), or run a shell command line with: Invoke-VzVmCommand <vm> sh -c '<command line>'." };
        }
        logger.LogDebug("guest-exec {Path} in '{Name}': guest pid {Pid}", path, name, pid);
        var delay = 20;
        while (true)
        {
            GuestExecStatus status;
            try { status = await agent.GuestExecStatusAsync(pid, Left(timeout, watch), cancellationToken); }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await EndGuestProcessAsync(agent, pid, name);
                throw;
            }
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
            {
                var ended = await EndGuestProcessAsync(agent, pid, name);
                throw new VzTimeoutException("VzGuestCommandTimeout", ended
                    ? $"'{path}' (guest pid {pid}) did not finish in '{name}' within {timeout.TotalSeconds:0.#} s; it was killed in the guest."
                    : $"'{path}' (guest pid {pid}) did not finish in '{name}' within {timeout.TotalSeconds:0.#} s, and killing it in the guest failed; it may still be running there.", name, timeout)
                { RecommendedAction = "Raise -Timeout, or run long jobs in the background in the guest." };
            }
            try { await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(delay, Math.Max(1, Left(timeout, watch).TotalMilliseconds))), cancellationToken); }
            catch (OperationCanceledException)
            {
                await EndGuestProcessAsync(agent, pid, name);
                throw;
            }
            delay = Math.Min(delay * 2, 250);
        }
    }

    /// <summary>How long ending a guest process may take, on a timeout or Ctrl+C (the caller is waiting to get its prompt back).</summary>
    private static readonly TimeSpan EndProcessWait = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Ends a guest-exec'd process that outlived its caller. The agent has no command for it, so a second guest-exec
    /// runs the guest's own kill (SIGKILL), and guest-exec-status then confirms the process exited (and reaps it, so
    /// the agent forgets it). Best effort and bounded: true when the process is known gone.
    /// </summary>
    private async Task<bool> EndGuestProcessAsync(QemuAgent agent, long pid, string name)
    {
        using var bound = new CancellationTokenSource(EndProcessWait);
        try
        {
            var killer = await agent.GuestExecAsync("kill", ["-9", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], null, EndProcessWait, bound.Token);
            while (!bound.IsCancellationRequested)
            {
                if ((await agent.GuestExecStatusAsync(pid, EndProcessWait, bound.Token)).Exited)
                {
                    _ = await agent.GuestExecStatusAsync(killer, EndProcessWait, bound.Token); // reap the kill too
                    logger.LogInformation("Killed guest process {Pid} in '{Name}'.", pid, name);
                    return true;
                }
                await Task.Delay(50, bound.Token);
            }
        }
        catch (Exception ex) when (ex is VzException or OperationCanceledException or InvalidDataException)
        {
            logger.LogWarning("Could not end guest process {Pid} in '{Name}': {Error}", pid, name, ex.Message);
        }
        return false;
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
            await using (var agent = await VmService.OpenAgentAsync(rt, name, timeout, cancellationToken))
            {
                try { await agent.GuestSetUserPasswordAsync(userName, encoded, timeout, cancellationToken); }
                catch (QgaException)
                {
                    if (!await UserMissingAsync(agent, userName, timeout, cancellationToken)) throw;
                    throw new VzNotFoundException("VzGuestUserNotFound", $"There is no user '{userName}' in the VM '{name}'.", name)
                    { RecommendedAction = "Give the name of an existing guest account (see /etc/passwd in the guest), or create it first, for example with Invoke-VzVmCommand <vm> useradd <name>." };
                }
            }
            logger.LogInformation("Set the password of user '{User}' in '{Name}'.", userName, name);
        }
        finally { encoded = ""; }
    }

    /// <summary>
    /// Whether the guest has no account <paramref name="userName"/>. The agent's own error for a password change
    /// only says its helper failed, so the guest's <c>id</c> tells a missing user from other failures.
    /// </summary>
    private static async Task<bool> UserMissingAsync(QemuAgent agent, string userName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            var pid = await agent.GuestExecAsync("id", ["-u", "--", userName], null, timeout, cancellationToken);
            var end = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (DateTime.UtcNow < end)
            {
                var status = await agent.GuestExecStatusAsync(pid, timeout, cancellationToken);
                if (status.Exited) return status.ExitCode != 0 && status.Signal is null;
                await Task.Delay(50, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is VzException or InvalidDataException) { }
        return false;
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
        await AgentChannel.RequireConnectedAsync(rt, name, cancellationToken);
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

    private static TimeSpan Left(TimeSpan timeout, Stopwatch watch)
    {
        var left = timeout - watch.Elapsed;
        return left > TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100);
    }
}
