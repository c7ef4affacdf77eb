using System.Text.RegularExpressions;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Containers.Templates;

/// <summary>
/// Debian 12 minbase from the mirror the host's apt already uses, with sysvinit as the container's init (minbase
/// has none). Ctrl-Alt-Del (SIGINT to init) is turned into a clean halt, which is how the engine stops it.
/// </summary>
internal static partial class DebianTemplate
{
    [GeneratedRegex(@"^\s*deb\s+(?:\[[^\]]*\]\s+)?(https?://\S+)\s+(\S+)", RegexOptions.Multiline)]
    private static partial Regex DebLine();

    [GeneratedRegex(@"^URIs:\s*(https?://\S+)", RegexOptions.Multiline)]
    private static partial Regex Deb822Uri();

    public static async Task BuildAsync(ProcessRunner runner, string root, CancellationToken ct)
    {
        var mirror = HostMirror() ?? throw new VzCapabilityMissingException("VzNoDebianMirror",
            "No Debian mirror was found in the host's apt sources.", "apt sources", "Debian mirror")
        { RecommendedAction = "Configure a Debian mirror in /etc/apt/sources.list." };
        await runner.RunAsync("debootstrap",
            ["--variant=minbase", "--include=sysvinit-core,iproute2,procps", "bookworm", root, mirror],
            new ProcessRunOptions { Timeout = TimeSpan.FromMinutes(15), Target = "debian-12" }, ct);
        var inittab = Path.Combine(root, "etc/inittab");
        if (File.Exists(inittab))
        {
            var lines = File.ReadAllLines(inittab)
                .Where(l => !Regex.IsMatch(l, @"^\d:\d*:respawn:/sbin/getty")) // no consoles in a container
                .Select(l => l.StartsWith("ca:", StringComparison.Ordinal) ? "ca:12345:ctrlaltdel:/sbin/shutdown -h now" : l);
            File.WriteAllLines(inittab, lines);
        }
        File.WriteAllText(Path.Combine(root, "etc/hostname"), "localhost\n");
    }

    private static string? HostMirror()
    {
        var files = new List<string>();
        if (File.Exists("/etc/apt/sources.list")) files.Add("/etc/apt/sources.list");
        // Only what apt itself reads: *.list and *.sources (a "disabled" file must not pick the mirror).
        if (Directory.Exists("/etc/apt/sources.list.d"))
            files.AddRange(Directory.GetFiles("/etc/apt/sources.list.d").Where(f => f.EndsWith(".list", StringComparison.Ordinal) || f.EndsWith(".sources", StringComparison.Ordinal)).Order());
        foreach (var f in files)
        {
            var text = File.ReadAllText(f);
            foreach (Match m in DebLine().Matches(text))
                if (!m.Groups[1].Value.Contains("security", StringComparison.Ordinal)) return m.Groups[1].Value;
            foreach (Match m in Deb822Uri().Matches(text))
                if (!m.Groups[1].Value.Contains("security", StringComparison.Ordinal)) return m.Groups[1].Value;
        }
        return null;
    }
}
