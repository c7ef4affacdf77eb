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
    /// crypt hash itself and feeds "user:hash" on standard input to a constant script in the container, which gives
    /// it to the container's <c>chpasswd -e</c> or, in templates without one (busybox), puts the hash into
    /// /etc/shadow itself. The password is on no command line, in no log and in no file but /etc/shadow's hash, and
    /// any characters (quotes, backslashes, line breaks, non-ASCII) can be part of it. Plain bytes are cleared once hashed.
    /// </summary>
    public async Task SetUserPasswordAsync(Guid id, string userName, SecureString password, TimeSpan timeout, CancellationToken ct)
    {
        var (_, cfg) = RequireReady(id);
        if (password.Length == 0)
            throw new VzInvalidArgumentException("VzEmptyPassword", $"An empty password for '{userName}' would let anyone log in as that user without one; it is refused.", cfg.Name, "Password")
            { RecommendedAction = "Give a non-empty password (Read-Host -AsSecureString, or ConvertTo-SecureString)." };
        if (!UserNamePattern().IsMatch(userName))
            throw new VzInvalidArgumentException("VzInvalidUserName", $"'{userName}' is not a valid user name.", cfg.Name, "UserName")
            { RecommendedAction = "Give the name of an account in the container's /etc/passwd (letters, digits, '.', '_', '-')." };
        var line = $"{userName}:{HashPassword(password)}\n";
        var r = await ExecAsync(id, ["sh", "-c", SetShadowScript], timeout, null, null, line, ct);
        line = "";
        if (r.ExitCode == UserMissingExit)
            throw new VzNotFoundException("VzContainerUserNotFound", $"There is no user '{userName}' in the container '{cfg.Name}'.", cfg.Name)
            { RecommendedAction = "Give an existing account (see /etc/passwd in the container), or create it first, for example with Invoke-VzContainerCommand <ct> adduser." };
        if (r.ExitCode != 0) throw new VzExternalToolException("chpasswd", ["-e"], r.ExitCode, r.StdErr, cfg.Name);
        logger.LogInformation("Set the password of user '{User}' in container '{Name}'.", userName, cfg.Name);
    }

    private const int UserMissingExit = 3;

    /// <summary>
    /// Reads "user:hash" from stdin (builtins only, so neither reaches a command line). The user is checked against
    /// /etc/passwd; then chpasswd -e where the template has it, else /etc/shadow's second field is replaced in a copy
    /// that is renamed over it (the fields and other lines as they were).
    /// </summary>
    private const string SetShadowScript =
        "IFS= read -r line || exit 2\n" +
        "u=${line%%:*}\n" +
        "awk -F: -v u=\"$u\" '$1 == u { f = 1 } END { exit !f }' /etc/passwd || exit 3\n" +
        "if command -v chpasswd >/dev/null 2>&1; then printf '%s\\n' \"$line\" | chpasswd -e; exit $?; fi\n" +
        "[ -f /etc/shadow ] || { echo 'the container has neither chpasswd nor /etc/shadow' >&2; exit 4; }\n" +
        "{ printf '%s\\n' \"$line\"; cat /etc/shadow; } | awk -F: -v OFS=: " +
        "'NR == 1 { u = $1; h = substr($0, length(u) + 2); next } $1 == u { $2 = h; f = 1 } { print } END { if (!f) { print u \": not in /etc/shadow\" > \"/dev/stderr\"; exit 5 } }' " +
        "> /etc/shadow.vz-new && chmod 600 /etc/shadow.vz-new && mv /etc/shadow.vz-new /etc/shadow || { rm -f /etc/shadow.vz-new; exit 5; }\n";

    /// <summary>Portable POSIX user names (and a trailing $ of machine accounts): nothing a script or a file could misread.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}\$?$")]
    private static partial System.Text.RegularExpressions.Regex UserNamePattern();

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
