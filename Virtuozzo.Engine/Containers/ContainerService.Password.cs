using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Containers;

public sealed partial class ContainerService
{
    /// <summary>
    /// Sets a user's password in a running container, as prlctl set --userpasswd does. The engine makes the SHA-512
    /// crypt hash itself and feeds "user:hash" to the container's <c>chpasswd -e</c> on standard input: the password
    /// is on no command line, in no log and in no file but /etc/shadow's hash, and any characters (quotes,
    /// backslashes, line breaks, non-ASCII) can be part of it. Plain bytes are cleared once hashed.
    /// </summary>
    public async Task SetUserPasswordAsync(Guid id, string userName, SecureString password, TimeSpan timeout, CancellationToken ct)
    {
        var (_, cfg) = RequireReady(id);
        if (password.Length == 0)
            throw new VzInvalidArgumentException("VzEmptyPassword", $"An empty password for '{userName}' would let anyone log in as that user without one; it is refused.", cfg.Name, "Password")
            { RecommendedAction = "Give a non-empty password (Read-Host -AsSecureString, or ConvertTo-SecureString)." };
        if (string.IsNullOrEmpty(userName) || userName.IndexOfAny([':', '\n', '\r', '/']) >= 0 || userName.StartsWith('-'))
            throw new VzInvalidArgumentException("VzInvalidUserName", $"'{userName}' is not a valid user name.", cfg.Name, "UserName")
            { RecommendedAction = "Give the name of an account in the container's /etc/passwd." };
        var hash = HashPassword(password);
        var r = await ExecAsync(id, ["chpasswd", "-e"], timeout, null, null, $"{userName}:{hash}\n", ct);
        hash = "";
        if (r.ExitCode != 0)
        {
            var probe = await ExecAsync(id, ["id", "-u", "--", userName], timeout, null, null, null, ct);
            if (probe.ExitCode != 0)
                throw new VzNotFoundException("VzContainerUserNotFound", $"There is no user '{userName}' in the container '{cfg.Name}'.", cfg.Name)
                { RecommendedAction = "Give an existing account (see /etc/passwd in the container), or create it first, for example with Invoke-VzContainerCommand <ct> adduser." };
            throw new VzExternalToolException("chpasswd", ["-e"], r.ExitCode, r.StdErr, cfg.Name);
        }
        logger.LogInformation("Set the password of user '{User}' in container '{Name}'.", userName, cfg.Name);
    }

    private static string HashPassword(SecureString password)
    {
        var ptr = Marshal.SecureStringToGlobalAllocUnicode(password);
        var chars = new char[password.Length];
        byte[]? bytes = null;
        try
        {
            Marshal.Copy(ptr, chars, 0, chars.Length);
            bytes = Encoding.UTF8.GetBytes(chars);
            return Sha512Crypt.Hash(bytes, Sha512Crypt.NewSalt());
        }
        finally
        {
            Array.Clear(chars);
            if (bytes is not null) Array.Clear(bytes);
            Marshal.ZeroFreeGlobalAllocUnicode(ptr);
        }
    }
}
