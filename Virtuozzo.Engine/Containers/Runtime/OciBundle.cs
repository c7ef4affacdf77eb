using System.Text.Json;
using System.Text.Json.Nodes;
using Virtuozzo.Engine.Cgroups;

namespace Virtuozzo.Engine.Containers.Runtime;

/// <summary>
/// Writes the OCI runtime <c>config.json</c> for a system container: the template's init as PID 1 in new pid,
/// mount, ipc, uts, net, cgroup and user namespaces; container root mapped to the container's own host id range;
/// a hardened capability set (no CAP_SYS_ADMIN, SYS_MODULE, SYS_TIME, SYS_RAWIO...), only the standard devices
/// and, unless the container is set Unconfined, a seccomp filter (<see cref="SeccompProfile"/>).
/// Both crun and runc take it unchanged.
/// </summary>
public static class OciBundle
{
    /// <summary>What a system container's root may do inside its own namespaces, and nothing that reaches the host.</summary>
    public static readonly IReadOnlyList<string> Capabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE",
        "CAP_SETFCAP", "CAP_SYS_BOOT", // SYS_BOOT: init's poweroff ends the container's pid namespace, nothing more
    ];

    /// <summary>Character devices a system needs (c major:minor); everything else, block devices above all, is denied.</summary>
    private static readonly (string Path, int Major, int Minor)[] Devices =
    [
        ("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7),
        ("/dev/random", 1, 8), ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0),
    ];

    public static string ToJson(OciBundleInput input) =>
        Build(input).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    public static JsonObject Build(OciBundleInput i)
    {
        var caps = new JsonArray(Capabilities.Select(c => (JsonNode)c!).ToArray());
        JsonArray Caps() => (JsonArray)caps.DeepClone();
        var l = i.Limits;
        var resources = new JsonObject
        {
            ["devices"] = new JsonArray(
                new JsonNode[] { new JsonObject { ["allow"] = false, ["access"] = "rwm" } }
                    .Concat(Devices.Select(d => (JsonNode)new JsonObject { ["allow"] = true, ["type"] = "c", ["major"] = d.Major, ["minor"] = d.Minor, ["access"] = "rwm" }))
                    .Append(new JsonObject { ["allow"] = true, ["type"] = "c", ["major"] = 5, ["minor"] = 2, ["access"] = "rwm" })    // /dev/ptmx
                    .Append(new JsonObject { ["allow"] = true, ["type"] = "c", ["major"] = 136, ["access"] = "rwm" })                  // /dev/pts/*
                    .ToArray()),
        };
        var memory = new JsonObject();
        if (l.MemorySize is { } mem) memory["limit"] = mem;
        if (l.MemorySwapLimit is { } memsw) memory["swap"] = memsw;
        if (l.MemoryLow is > 0) memory["reservation"] = l.MemoryLow;
        if (memory.Count > 0) resources["memory"] = memory;
        var cpu = new JsonObject();
        if (l.CpuUnits is { } units) cpu["shares"] = CgroupUnits.SharesFromUnits(units);
        if (l.CpuQuotaMicroseconds is > 0) cpu["quota"] = l.CpuQuotaMicroseconds; // "no limit" is a fresh group's default; runtimes differ on how to write -1
        if (l.CpuPeriodMicroseconds is { } period) cpu["period"] = period;
        if (l.CpuSet is { } cpus) cpu["cpus"] = cpus;
        if (cpu.Count > 0) resources["cpu"] = cpu;
        if (l.PidsLimit is > 0) resources["pids"] = new JsonObject { ["limit"] = l.PidsLimit };

        var namespaces = new JsonArray(
            new JsonObject { ["type"] = "pid" },
            i.NetworkNamespacePath is { } ns ? new JsonObject { ["type"] = "network", ["path"] = ns } : new JsonObject { ["type"] = "network" },
            new JsonObject { ["type"] = "ipc" },
            new JsonObject { ["type"] = "uts" },
            new JsonObject { ["type"] = "mount" },
            new JsonObject { ["type"] = "user" },
            new JsonObject { ["type"] = "cgroup" });

        var linux = new JsonObject
        {
            ["uidMappings"] = new JsonArray(new JsonObject { ["containerID"] = 0, ["hostID"] = i.UidBase, ["size"] = i.UidCount }),
            ["gidMappings"] = new JsonArray(new JsonObject { ["containerID"] = 0, ["hostID"] = i.UidBase, ["size"] = i.UidCount }),
            ["cgroupsPath"] = i.CgroupsPath,
            ["resources"] = resources,
            ["namespaces"] = namespaces,
            ["maskedPaths"] = new JsonArray("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"),
            ["readonlyPaths"] = new JsonArray("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"),
        };
        if (i.Seccomp is { } seccomp) linux["seccomp"] = seccomp.DeepClone();

        return new JsonObject
        {
            ["ociVersion"] = "1.0.2",
            ["process"] = new JsonObject
            {
                ["terminal"] = false,
                ["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0 },
                ["args"] = new JsonArray(i.InitArgs.Select(a => (JsonNode)a!).ToArray()),
                ["env"] = new JsonArray("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "container=vz"),
                ["cwd"] = "/",
                ["capabilities"] = new JsonObject
                {
                    ["bounding"] = Caps(), ["effective"] = Caps(), ["permitted"] = Caps(),
                },
                ["noNewPrivileges"] = false,
            },
            ["root"] = new JsonObject { ["path"] = i.RootPath, ["readonly"] = false },
            ["hostname"] = i.Hostname,
            ["mounts"] = new JsonArray([
                Mount("/proc", "proc", "proc", "nosuid", "noexec", "nodev"),
                Mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
                Mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"),
                Mount("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
                Mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
                Mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
                Mount("/run", "tmpfs", "tmpfs", "nosuid", "nodev", "mode=755", "size=65536k"),
                .. i.BindMounts.Select(Bind)]),
            ["linux"] = linux,
        };
    }

    /// <summary>A shared folder: rbind keeps mounts below it; nosuid and nodev so a share cannot smuggle in setuid programs or devices.</summary>
    private static JsonObject Bind(OciBindMount b) =>
        Mount(b.Destination, "bind", b.Source, ["rbind", "nosuid", "nodev", .. b.ReadOnly ? ["ro"] : Array.Empty<string>(), .. b.IdMapped ? ["idmap"] : Array.Empty<string>()]);

    private static JsonObject Mount(string destination, string type, string source, params string[] options) => new()
    {
        ["destination"] = destination,
        ["type"] = type,
        ["source"] = source,
        ["options"] = new JsonArray(options.Select(o => (JsonNode)o!).ToArray()),
    };
}
