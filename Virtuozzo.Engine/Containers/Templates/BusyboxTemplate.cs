using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Containers.Templates;

/// <summary>
/// A minimal system container tree around the host's static busybox: busybox init as PID 1, an applet link for
/// every command, and the few /etc files a system needs. No network, no package manager.
/// </summary>
internal static class BusyboxTemplate
{
    private static readonly string[] Candidates = ["/bin/busybox", "/usr/bin/busybox"];

    public static async Task BuildAsync(ProcessRunner runner, string root, CancellationToken ct)
    {
        var busybox = Candidates.FirstOrDefault(IsStatic) ?? throw new VzCapabilityMissingException("VzBusyboxMissing",
            "No static busybox was found (/bin/busybox from the busybox-static package).", "busybox", "busybox-static")
        { RecommendedAction = "Install the busybox-static package (apt-get install busybox-static)." };

        foreach (var d in new[] { "bin", "sbin", "usr/bin", "usr/sbin", "etc/init.d", "proc", "sys", "dev", "tmp", "root", "var/run", "var/log", "mnt", "home" })
            Directory.CreateDirectory(Path.Combine(root, d));
        File.SetUnixFileMode(Path.Combine(root, "tmp"), (UnixFileMode)0b1_111_111_111); // 1777
        File.SetUnixFileMode(Path.Combine(root, "root"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.Copy(busybox, Path.Combine(root, "bin/busybox"));
        File.SetUnixFileMode(Path.Combine(root, "bin/busybox"), (UnixFileMode)0b111_101_101);

        // The applet list comes from the binary itself, so the tree matches the host's busybox exactly.
        var list = await runner.RunAsync(busybox, ["--list-full"], new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(10) }, ct);
        var applets = list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var applet in applets)
        {
            if (applet == "bin/busybox" || applet.Contains("..")) continue;
            var link = Path.Combine(root, applet);
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            if (!File.Exists(link) && !Directory.Exists(link)) File.CreateSymbolicLink(link, "/bin/busybox");
        }
        if (!File.Exists(Path.Combine(root, "sbin/init"))) File.CreateSymbolicLink(Path.Combine(root, "sbin/init"), "/bin/busybox");
        // Debian's busybox-static has no nohup applet, yet 'nohup daemon >/dev/null 2>&1 &' is how exec users leave a
        // process running in a container (vzctl exec): without it the line fails with 127 and nothing keeps running.
        if (!applets.Any(a => a.EndsWith("/nohup", StringComparison.Ordinal)))
            Write(root, "usr/bin/nohup", NohupScript, executable: true);

        Write(root, "etc/inittab",
            "# busybox init: SIGUSR2 powers off, SIGTERM reboots (both end the container).\n" +
            "::sysinit:/etc/init.d/rcS\n" +
            "::ctrlaltdel:/sbin/reboot\n" +
            "::shutdown:/bin/sync\n");
        Write(root, "etc/init.d/rcS", "#!/bin/sh\n/bin/ip link set lo up 2>/dev/null\n[ -x /etc/rc.local ] && /etc/rc.local\nexit 0\n", executable: true);
        Write(root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
        Write(root, "etc/group", "root:x:0:\nnogroup:x:65534:\n");
        Write(root, "etc/shadow", "root:*:19000:0:99999:7:::\n");
        Write(root, "etc/hostname", "localhost\n");
        Write(root, "etc/hosts", "127.0.0.1 localhost\n");
        Write(root, "etc/resolv.conf", "");
        Write(root, "etc/os-release", "NAME=BusyBox\nID=busybox\nPRETTY_NAME=\"BusyBox system container\"\n");
    }

    /// <summary>POSIX nohup in sh: hangups ignored, output to nohup.out only when it would go to a terminal.</summary>
    internal const string NohupScript =
        "#!/bin/sh\n" +
        "[ $# -gt 0 ] || { echo 'usage: nohup COMMAND [ARG]...' >&2; exit 125; }\n" +
        "trap '' HUP\n" +
        "if [ -t 1 ]; then exec >>nohup.out || exit 127; fi\n" +
        "if [ -t 2 ]; then exec 2>&1; fi\n" +
        "exec \"$@\"\n";

    private static bool IsStatic(string path)
    {
        if (!File.Exists(path)) return false;
        // A dynamic ELF has a PT_INTERP program header; look for the loader path in the first 4 KiB.
        using var f = File.OpenRead(path);
        var head = new byte[4096];
        var n = f.Read(head);
        return !System.Text.Encoding.ASCII.GetString(head, 0, n).Contains("ld-linux", StringComparison.Ordinal);
    }

    private static void Write(string root, string rel, string text, bool executable = false)
    {
        var path = Path.Combine(root, rel);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, executable ? (UnixFileMode)0b111_101_101 : rel == "etc/shadow" ? UnixFileMode.UserRead | UnixFileMode.UserWrite : (UnixFileMode)0b110_100_100);
    }
}
