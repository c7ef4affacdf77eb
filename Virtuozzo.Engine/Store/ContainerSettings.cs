using Virtuozzo.Engine.Network;

namespace Virtuozzo.Engine.Store;

/// <summary>Container-only settings in <c>ve.yaml</c>.</summary>
public sealed class ContainerSettings
{
    /// <summary>The OS template the private area was made from (for example <c>busybox</c>).</summary>
    public string Template { get; set; } = "";

    /// <summary>The container's hostname; null means the container's name.</summary>
    public string? Hostname { get; set; }

    /// <summary>DNS servers written to the container's /etc/resolv.conf (prlctl --nameserver).</summary>
    public List<string> Nameservers { get; set; } = [];

    /// <summary>First host uid/gid of the container's user namespace; container root is this id on the host.</summary>
    public long UidBase { get; set; }

    /// <summary>Ids a container's user namespace maps by default: a full 16-bit range, so any distribution's users fit.</summary>
    public const long DefaultUidCount = 65536;

    /// <summary>How many ids the user namespace maps.</summary>
    public long UidCount { get; set; } = DefaultUidCount;

    /// <summary>Most tasks the container may hold; null for no limit.</summary>
    public long? PidsLimit { get; set; }

    /// <summary>Signal that asks the template's init for a clean shutdown (busybox: SIGUSR2, systemd: SIGRTMIN+3).</summary>
    public string StopSignal { get; set; } = "SIGUSR2";

    /// <summary>The init program, run as PID 1.</summary>
    public string Init { get; set; } = "/sbin/init";

    /// <summary>Where the root tree lives.</summary>
    public ContainerLayout Layout { get; set; } = ContainerLayout.Directory;

    /// <summary>Size of the root image for <see cref="ContainerLayout.Image"/>, in bytes.</summary>
    public long? DiskSize { get; set; }

    public ContainerNetworkSettings Network { get; set; } = new();
    /// <summary>
    /// Whether the container's processes offer their memory to KSM (PR_SET_MEMORY_MERGE on its init, inherited by
    /// everything init starts); null (off) by default, true set with Set-VzContainer -MemMerge. Applies at the next start.
    /// </summary>
    public bool? MemMerge { get; set; }

    /// <summary>
    /// The seccomp filter: null for the built-in default profile, <c>Unconfined</c> for none, or the absolute path of
    /// an OCI linux.seccomp JSON file read at every start (the container runtime code resolves it, see SeccompProfile).
    /// </summary>
    public string? SeccompProfile { get; set; }
}
