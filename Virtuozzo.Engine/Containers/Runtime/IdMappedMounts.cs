using System.Globalization;
using System.Text.RegularExpressions;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Containers.Runtime;

/// <summary>
/// Whether a container's shared folders can be idmapped mounts. The kernel needs mount_setattr(MOUNT_ATTR_IDMAP)
/// (Linux 5.12) and the runtime must implement the OCI <c>idmap</c> mount option: crun from 1.8 (checked with 1.8.1 on
/// Linux 6.x: host root files appear as container root, and container root writes as host uid 0) and runc from 1.2.
/// Without it a share is a plain bind mount: host ids outside the container's range show as nobody (65534) inside,
/// and the container writes with its shifted ids (UidBase + n) on the host. Asked only for containers with shares.
/// </summary>
public static partial class IdMappedMounts
{
    private static readonly Version MinKernel = new(5, 12);

    [GeneratedRegex(@"version\s+(\d+)\.(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();

    /// <summary>The decision for <paramref name="runtime"/> on this host; one <c>--version</c> call.</summary>
    public static async Task<bool> SupportedAsync(ProcessRunner runner, string runtime, CancellationToken ct)
    {
        if (KernelVersion() is not { } kernel || kernel < MinKernel) return false;
        var r = await runner.RunAsync(runtime, ["--version"], new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(10), ThrowOnFailure = false }, ct);
        return r.ExitCode == 0 && RuntimeSupports(runtime, r.StandardOutput);
    }

    /// <summary>Whether the runtime's <c>--version</c> text names a release with the idmap mount option. Pure.</summary>
    public static bool RuntimeSupports(string runtime, string versionText)
    {
        var m = VersionPattern().Match(versionText);
        if (!m.Success) return false;
        var v = new Version(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        return runtime switch { "crun" => v >= new Version(1, 8), "runc" => v >= new Version(1, 2), _ => false };
    }

    private static Version? KernelVersion()
    {
        var release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        var m = Regex.Match(release, @"^(\d+)\.(\d+)");
        return m.Success ? new Version(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)) : null;
    }
}
