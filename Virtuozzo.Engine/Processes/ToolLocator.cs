using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Processes;

/// <summary>
/// Finds programs by name. Looks in PATH and in the sbin folders, which a non-login root shell (sshd, cron)
/// often lacks but where ip, losetup and mkfs live.
/// </summary>
public static class ToolLocator
{
    private static readonly string[] ExtraDirectories = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    /// <summary>Full path of <paramref name="name"/>, or null when it is not installed.</summary>
    public static string? Find(string name)
    {
        if (name.Contains('/')) return File.Exists(name) ? name : null;
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(ExtraDirectories))
        {
            var candidate = System.IO.Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Full path of <paramref name="name"/>; throws a NotInstalled-style error naming the Debian package.</summary>
    public static string Require(string name, string debianPackage) =>
        Find(name) ?? throw new VzCapabilityMissingException("VzToolNotInstalled",
            $"The program '{name}' is not installed on this host.", name, name)
        { RecommendedAction = $"Install it with 'apt-get install {debianPackage}', or run './build.ps1 -Task Bootstrap'." };
}
