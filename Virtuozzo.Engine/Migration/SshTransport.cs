using System.Diagnostics;
using System.Text;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Migration;

/// <summary>
/// How the source host talks to the destination: OpenSSH, the transport remoting already uses. Commands run on the
/// destination through ssh (their arguments quoted for the remote shell, the one place a shell string exists, because
/// ssh itself joins them), and unix sockets are forwarded with -L local.sock:remote.sock. The client config comes
/// from VZ_SSH_CONFIG when set (the test rig's per-host aliases and known_hosts), else ssh's own defaults.
/// </summary>
public sealed class SshTransport(MigrationDestination destination)
{
    public MigrationDestination Destination => destination;

    /// <summary>The ssh options every connection uses: batch mode (no prompt can hang a migration), strict host keys.</summary>
    public IReadOnlyList<string> BaseArguments()
    {
        var a = new List<string>();
        if (Environment.GetEnvironmentVariable("VZ_SSH_CONFIG") is { Length: > 0 } cfg) a.AddRange(["-F", cfg]);
        a.AddRange(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=20",
            "-o", "ServerAliveInterval=2", "-o", "ServerAliveCountMax=3"]);
        if (destination.Port is { } p) a.AddRange(["-p", p.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (destination.UserName is { Length: > 0 } u) a.AddRange(["-l", u]);
        if (destination.KeyFilePath is { Length: > 0 } k) a.AddRange(["-i", k, "-o", "IdentitiesOnly=yes"]);
        return a;
    }

    /// <summary>The argument list of ssh running <paramref name="remoteCommand"/> on the destination.</summary>
    public IReadOnlyList<string> CommandArguments(IEnumerable<string> remoteCommand) =>
        [.. BaseArguments(), destination.HostName, "--", string.Join(' ', remoteCommand.Select(ShellQuote))];

    /// <summary>Starts ssh running a remote command with stdin/stdout/stderr redirected (the caller streams them).</summary>
    public Process Start(IEnumerable<string> remoteCommand)
    {
        var psi = new ProcessStartInfo("ssh")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in CommandArguments(remoteCommand)) psi.ArgumentList.Add(a);
        return Process.Start(psi) ?? throw new VzCapabilityMissingException("VzToolNotInstalled", "ssh could not be started.", "ssh", "ssh");
    }

    /// <summary>
    /// Turns ssh's own failure (exit code 255) into the typed error that says what is wrong with the connection:
    /// the host key is not trusted, the host cannot be reached or resolved, or the key was refused.
    /// </summary>
    public VzException ConnectionError(string stderr)
    {
        var text = stderr.Trim();
        var host = destination.ToString();
        if (text.Contains("Host key verification failed", StringComparison.Ordinal) || text.Contains("REMOTE HOST IDENTIFICATION HAS CHANGED", StringComparison.Ordinal))
            return new VzUnavailableException("VzMigrationHostKeyUntrusted", $"The host key of '{host}' is not trusted by this host: {LastLine(text)}", host)
            { RecommendedAction = $"Verify the key and add it to known_hosts (ssh-keyscan {destination.HostName} after checking its fingerprint), then try again." };
        if (text.Contains("Permission denied", StringComparison.Ordinal))
            return new VzUnavailableException("VzMigrationAuthenticationFailed", $"'{host}' refused this host's SSH key: {LastLine(text)}", host)
            { RecommendedAction = "Install this host's public key in the destination's authorized_keys (key-based root login is needed)." };
        return new VzUnavailableException("VzMigrationHostUnreachable", $"The destination host '{host}' cannot be reached over SSH: {LastLine(text)}", host)
        { RecommendedAction = "Check the host name, that sshd runs there, and the network path (ssh -v shows where it stops)." };
    }

    private static string LastLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "ssh failed";

    /// <summary>Single-quotes one word for the remote POSIX shell.</summary>
    public static string ShellQuote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or '=' or ':' or ',')
            ? s : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    internal static async Task<string> ReadAllAsync(StreamReader reader, StringBuilder? into = null)
    {
        var s = await reader.ReadToEndAsync();
        into?.Append(s);
        return s;
    }
}
