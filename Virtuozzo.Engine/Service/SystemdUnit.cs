using System.Text;
using Virtuozzo.Engine.Configuration;

namespace Virtuozzo.Engine.Service;

/// <summary>The systemd unit of the host service, rendered from the launcher and the paths (pure, so tests pin it).</summary>
public static class SystemdUnit
{
    public const string DefaultUnitName = "vz-hostservice.service";
    public const string DefaultDirectory = "/etc/systemd/system";

    public static string Render(HostServiceLauncher launcher, VzPaths paths, string? hostConfigPath)
    {
        var exec = string.Join(' ', new[] { launcher.Program }.Concat(launcher.Arguments).Select(Quote));
        var b = new StringBuilder();
        b.Append("# Written by Install-VzHostService. Rewrite it with Install-VzHostService, not by hand.\n");
        b.Append("[Unit]\n");
        b.Append($"Description=Virtuozzo host service for {paths.DataRoot} (OnBoot VEs, VE watch, memory manager)\n");
        b.Append("After=local-fs.target network-online.target\n");
        b.Append("Wants=network-online.target\n\n");
        b.Append("[Service]\n");
        // Type=notify: the service tells systemd READY=1 once it holds its lock and has started the OnBoot VEs.
        b.Append("Type=notify\n");
        b.Append($"ExecStart={exec}\n");
        b.Append($"Environment={Quote("VZ_ROOT=" + paths.DataRoot)}\n");
        b.Append($"Environment={Quote("VZ_RUN_ROOT=" + paths.RunRoot)}\n");
        b.Append($"Environment={Quote("VZ_CGROUP_PARENT=" + paths.CgroupParent)}\n");
        if (hostConfigPath is { Length: > 0 }) b.Append($"Environment={Quote("VZ_HOST_CONFIG=" + hostConfigPath)}\n");
        // The VEs are not the service's children to kill: QEMU daemons and container inits live in their own cgroups,
        // and a service restart must not take the VMs with it. AutoStop decides what happens to them at stop.
        b.Append("KillMode=process\n");
        b.Append("Restart=on-failure\n");
        b.Append("RestartSec=2s\n");
        // AutoStop may shut down or suspend every VE: give it time.
        b.Append("TimeoutStopSec=300\n\n");
        b.Append("[Install]\n");
        b.Append("WantedBy=multi-user.target\n");
        return b.ToString();
    }

    /// <summary>systemd's quoting: a word with spaces, quotes or backslashes goes in double quotes, escaped.</summary>
    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => !char.IsWhiteSpace(c) && c is not ('"' or '\'' or '\\' or ';' or '$' or '%'))
            ? s
            : "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("%", "%%", StringComparison.Ordinal).Replace("$", "$$", StringComparison.Ordinal) + "\"";
}
