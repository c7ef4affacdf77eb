namespace Virtuozzo.Engine.Containers.Templates;

/// <summary>
/// The signal that shuts a template's init down cleanly, read from the template's tree when it is built, so
/// Stop-VzContainer asks each init the way it understands:
/// <list type="bullet">
/// <item>busybox init: SIGUSR2 (poweroff). SIGUSR1 (halt) and SIGTERM (reboot) take the same path in busybox
/// (shutdown actions, SIGTERM to all, 1 s, SIGKILL to all, 1 s, reboot call), so about 2 s whatever the signal.</item>
/// <item>systemd: SIGRTMIN+3 (halt.target); SIGTERM would only re-execute it.</item>
/// <item>sysvinit: SIGPWR when inittab has a power-fail action that halts, else SIGINT when its ctrl-alt-del action
/// halts (the Debian template sets that), else SIGTERM, which sysvinit ignores until the stop timeout kills it.</item>
/// </list>
/// </summary>
public static class InitStopSignal
{
    public static string Detect(string root, string init = "/sbin/init")
    {
        var program = Resolve(root, init);
        var name = Path.GetFileName(program);
        if (name == "busybox") return "SIGUSR2";
        if (program.Contains("/systemd", StringComparison.Ordinal)) return "SIGRTMIN+3";
        var inittab = Path.Combine(root, "etc/inittab");
        if (!File.Exists(inittab)) return "SIGTERM";
        var actions = File.ReadLines(inittab)
            .Where(l => !l.TrimStart().StartsWith('#'))
            .Select(l => l.Split(':', 4))
            .Where(f => f.Length == 4)
            .Select(f => (Action: f[2].Trim(), Process: f[3]))
            .ToList();
        if (actions.Any(a => a.Action is "powerfail" or "powerfailnow" or "powerwait" && Halts(a.Process))) return "SIGPWR";
        if (actions.Any(a => a.Action == "ctrlaltdel" && Halts(a.Process))) return "SIGINT";
        return "SIGTERM";
    }

    /// <summary>A command that brings the system down for good (not a reboot, which would restart the container's init).</summary>
    private static bool Halts(string command) =>
        command.Contains("shutdown -h", StringComparison.Ordinal) || command.Contains("shutdown -P", StringComparison.Ordinal)
        || command.Contains("halt", StringComparison.Ordinal) || command.Contains("poweroff", StringComparison.Ordinal)
        || command.TrimEnd().EndsWith("init 0", StringComparison.Ordinal);

    /// <summary>Follows symlinks inside the template (absolute targets are relative to its root), at most 8 hops.</summary>
    private static string Resolve(string root, string path)
    {
        for (var hop = 0; hop < 8; hop++)
        {
            var target = new FileInfo(Path.Combine(root, path.TrimStart('/'))).LinkTarget;
            if (target is null) return path;
            path = target.StartsWith('/') ? target : Path.Combine(Path.GetDirectoryName(path) ?? "/", target);
        }
        return path;
    }
}
