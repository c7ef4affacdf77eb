using Virtuozzo.Engine.Cgroups;

namespace Virtuozzo.Engine.Containers.Runtime;

/// <summary>Everything the OCI config of one container depends on, resolved from its <c>ve.yaml</c> and the host.</summary>
public sealed record OciBundleInput
{
    /// <summary>The root tree, absolute.</summary>
    public required string RootPath { get; init; }
    public required string Hostname { get; init; }
    public required IReadOnlyList<string> InitArgs { get; init; }
    public required long UidBase { get; init; }
    public required long UidCount { get; init; }

    /// <summary>Absolute cgroup path ("/vz/&lt;id&gt;"), the same in every hierarchy.</summary>
    public required string CgroupsPath { get; init; }

    public required CgroupLimits Limits { get; init; }

    /// <summary>Network namespace: always a new one; the engine plumbs eth0 into it.</summary>
    public string? NetworkNamespacePath { get; init; }

    /// <summary>The <c>linux.seccomp</c> object (see <see cref="SeccompProfile"/>); null runs the container without a filter.</summary>
    public System.Text.Json.Nodes.JsonObject? Seccomp { get; init; }

    /// <summary>Shared folders bind-mounted after the runtime's own mounts (Add-VzSharedFolder); none by default.</summary>
    public IReadOnlyList<OciBindMount> BindMounts { get; init; } = [];
}

/// <summary>
/// A host folder bind-mounted into a container. <see cref="IdMapped"/> asks the runtime for an idmapped mount over the
/// container's own id mapping (OCI option <c>idmap</c>): host uid 0 is container root there, and what container root
/// writes is owned by host uid 0, as on the host and in a VM sharing the folder.
/// </summary>
public sealed record OciBindMount(string Source, string Destination, bool ReadOnly, bool IdMapped);
