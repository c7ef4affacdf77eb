using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Containers.Runtime;

/// <summary>
/// The seccomp filter of a container's processes, as the OCI <c>linux.seccomp</c> object.
/// <para>
/// The default is a deny-list (default action allow) rather than Docker's allow-list. A system container runs a
/// whole distribution whose init and libraries probe new system calls; an allow-list fails every call newer than
/// the list with EPERM, which glibc and systemd take as a hard error (the clone3 breakage of older Docker
/// profiles). What the deny-list must stop is what the container's root can still reach although it lacks
/// CAP_SYS_ADMIN and friends: a nested user namespace (which would hand it every capability again inside, and with
/// it mounts of file systems the kernel lets user namespaces mount), the kernel's keyrings (not namespaced), BPF,
/// perf events and userfaultfd (kernel attack surface an unprivileged user can reach). Calls that need a capability
/// the container does not hold (modules, kexec, clocks, swap, accounting, raw I/O ports) are denied too, so a future
/// capability change cannot open them by accident. reboot stays allowed: in a pid namespace the kernel turns it into
/// ending the container's init (that is how poweroff inside works), and CAP_SYS_BOOT is granted for that. ptrace
/// stays allowed: it only reaches processes of the same user namespace, and strace/gdb inside a system container
/// are ordinary tools.
/// </para>
/// </summary>
public static class SeccompProfile
{
    /// <summary>The setting value for the built-in profile (also what an unset value means).</summary>
    public const string Default = "Default";

    /// <summary>The setting value for no filter at all.</summary>
    public const string Unconfined = "Unconfined";

    private const int EPERM = 1;
    private const int ENOSYS = 38;
    private const long CloneNewUser = 0x10000000;
    private const int MaxCustomProfileBytes = 1024 * 1024;

    /// <summary>System calls the default profile fails with EPERM, whatever their arguments.</summary>
    public static readonly IReadOnlyList<string> Denied =
    [
        // Kernel code and the running kernel: modules, kexec.
        "create_module", "delete_module", "finit_module", "get_kernel_syms", "init_module", "query_module",
        "kexec_file_load", "kexec_load",
        // Host-wide state with no namespace: keyrings, clocks, swap, process accounting, quotas, the kernel log.
        "add_key", "keyctl", "request_key",
        "clock_adjtime", "clock_settime", "settimeofday", "stime",
        "swapoff", "swapon", "acct", "quotactl", "syslog",
        // Kernel attack surface an unprivileged user can otherwise reach.
        "bpf", "perf_event_open", "userfaultfd", "lookup_dcookie",
        // Escapes through file handles, raw I/O ports and obsolete interfaces.
        "open_by_handle_at", "ioperm", "iopl", "nfsservctl", "_sysctl", "uselib", "ustat", "vm86", "vm86old",
    ];

    /// <summary>The OCI architectures the filter covers, so 32-bit entry points cannot go around it.</summary>
    public static IReadOnlyList<string> Architectures(Architecture host) => host switch
    {
        Architecture.X64 => ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        Architecture.X86 => ["SCMP_ARCH_X86"],
        Architecture.Arm64 => ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
        Architecture.Arm => ["SCMP_ARCH_ARM"],
        Architecture.S390x => ["SCMP_ARCH_S390X", "SCMP_ARCH_S390"],
        Architecture.Ppc64le => ["SCMP_ARCH_PPC64LE"],
        _ => [],
    };

    /// <summary>The built-in profile for a host of <paramref name="host"/> architecture.</summary>
    public static JsonObject BuildDefault(Architecture host)
    {
        JsonArray Names(IEnumerable<string> names) => new(names.Select(n => (JsonNode)n!).ToArray());
        JsonObject NewUserNamespaceDenied(string syscall) => new()
        {
            ["names"] = Names([syscall]),
            ["action"] = "SCMP_ACT_ERRNO",
            ["errnoRet"] = EPERM,
            // Only with CLONE_NEWUSER among the flags (argument 0 on every architecture listed above, s390 aside).
            ["args"] = new JsonArray(new JsonObject { ["index"] = 0, ["value"] = CloneNewUser, ["valueTwo"] = CloneNewUser, ["op"] = "SCMP_CMP_MASKED_EQ" }),
        };
        return new JsonObject
        {
            ["defaultAction"] = "SCMP_ACT_ALLOW",
            ["architectures"] = Names(Architectures(host)),
            ["syscalls"] = new JsonArray(
                new JsonObject { ["names"] = Names(Denied), ["action"] = "SCMP_ACT_ERRNO", ["errnoRet"] = EPERM },
                NewUserNamespaceDenied("unshare"),
                NewUserNamespaceDenied("clone"),
                // clone3 passes its flags in memory, where seccomp cannot look: "not implemented" makes glibc fall
                // back to clone, which the rule above can filter (what Docker and Podman do).
                new JsonObject { ["names"] = Names(["clone3"]), ["action"] = "SCMP_ACT_ERRNO", ["errnoRet"] = ENOSYS }),
        };
    }

    /// <summary>
    /// Checks a container's seccomp setting: <see cref="Default"/>, <see cref="Unconfined"/>, or the absolute path
    /// of a JSON file in the OCI <c>linux.seccomp</c> format. Returns the value to store (null for the default).
    /// </summary>
    public static string? Validate(string value, object target)
    {
        if (value.Equals(Default, StringComparison.OrdinalIgnoreCase) || value.Length == 0) return null;
        if (value.Equals(Unconfined, StringComparison.OrdinalIgnoreCase)) return Unconfined;
        ReadCustom(value, target, "SeccompProfile");
        return value;
    }

    /// <summary>
    /// The <c>linux.seccomp</c> object for a stored setting (null: no filter). A custom file is read at every start,
    /// so an edit takes effect at the next start, and a file gone since is an error rather than a silent default.
    /// </summary>
    public static JsonObject? Resolve(string? setting, Architecture host, object target) => setting switch
    {
        null => BuildDefault(host),
        _ when setting.Equals(Default, StringComparison.OrdinalIgnoreCase) => BuildDefault(host),
        _ when setting.Equals(Unconfined, StringComparison.OrdinalIgnoreCase) => null,
        _ => ReadCustom(setting, target, null),
    };

    private static JsonObject ReadCustom(string path, object target, string? parameter)
    {
        VzInvalidArgumentException Bad(string what) => new("VzInvalidSeccompProfile", $"The seccomp profile '{path}' {what}", target, parameter)
        { RecommendedAction = "Give Default, Unconfined, or the absolute path of a JSON file in the OCI linux.seccomp format (defaultAction, architectures, syscalls)." };
        if (!Path.IsPathFullyQualified(path)) throw Bad("is not an absolute path.");
        var info = new FileInfo(path);
        if (!info.Exists) throw Bad(Directory.Exists(path) ? "is a folder, not a file." : "does not exist.");
        if (info.Length > MaxCustomProfileBytes) throw Bad($"is larger than {MaxCustomProfileBytes >> 20} MiB.");
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { MaxDepth = 16 }); }
        catch (JsonException ex) { throw Bad($"is not valid JSON: {ex.Message.Split('.')[0]}."); }
        if (node is not JsonObject profile || profile["defaultAction"] is not JsonValue action || action.GetValueKind() != JsonValueKind.String)
            throw Bad("has no \"defaultAction\"; it must be an OCI linux.seccomp object.");
        return profile;
    }
}
