using Virtuozzo.Engine.Store;
using Virtuozzo.Engine.Network;

namespace Virtuozzo.Engine.Containers;

/// <summary>
/// A container as Get-VzContainer shows it: its settings (named like the parameters that set them) and, when it
/// runs, live usage read from its cgroups. Flat, so it serializes cleanly over remoting.
/// </summary>
public sealed record ContainerInfo
{
    public string Name { get; init; } = "";
    public Guid Id { get; init; }
    /// <summary>The state as its name (Running): text wherever the object goes (ConvertTo-Json, Export-Csv); Where-Object State -eq Running works.</summary>
    public string State => StateValue.ToString();
    /// <summary>The state as the enum, for code that switches on it.</summary>
    public ContainerState StateValue { get; init; }
    /// <summary>Why a Stopped container stopped when it did not stop through Stop-VzContainer (its init was killed, for example).</summary>
    public string? StateReason { get; init; }
    public string? Template { get; init; }
    public string? Hostname { get; init; }
    public TextList<string> IpAddress { get; init; } = [];
    public NetworkMode NetworkMode { get; init; }
    public string? Bridge { get; init; }
    /// <summary>The default gateway set with -Gateway; null when the host route is used.</summary>
    public string? Gateway { get; init; }
    public string? MacAddress { get; init; }
    public TextList<string> Nameserver { get; init; } = [];
    public long MemorySize { get; init; }
    public long SwapSize { get; init; }
    /// <summary>The guarantee as set (Auto or a percentage): what -MemGuarantee takes back.</summary>
    public Memory.MemGuarantee MemGuarantee { get; init; }
    /// <summary>The guarantee in force, in percent (Auto resolved to the container default, 0).</summary>
    public int MemGuaranteePercent { get; init; }
    public int? CpuCount { get; init; }
    public int CpuUnits { get; init; }
    /// <summary>Percent of one CPU; 0 for no limit.</summary>
    public int CpuLimit { get; init; }
    /// <summary>The limit in MHz when it was given in MHz (then <see cref="CpuLimit"/> is 0); as -CpuLimitMhz takes it.</summary>
    public int? CpuLimitMhz { get; init; }
    public string? CpuMask { get; init; }
    public long? PidsLimit { get; init; }
    public bool OnBoot { get; init; }
    public int BootOrder { get; init; }
    /// <summary>Seconds the host service waits before starting this container at boot.</summary>
    public int BootDelay { get; init; }
    public Store.VeAutoStop AutoStop { get; init; }
    /// <summary>Whether the container's processes offer their memory to KSM (Set-VzContainer -MemMerge).</summary>
    public bool MemMerge { get; init; }
    public ContainerLayout Layout { get; init; }
    /// <summary>Size of the root image (Image layout); null for Directory.</summary>
    public long? DiskSize { get; init; }
    public string? Description { get; init; }
    /// <summary>How many snapshots the container has (Get-VzSnapshot lists them).</summary>
    public int SnapshotCount { get; init; }
    /// <summary>The OCI runtime the running container was started with.</summary>
    public string? Runtime { get; init; }
    /// <summary>Host pid of the container's init; 0 when stopped.</summary>
    public int InitPid { get; init; }
    public long MemoryCurrent { get; init; }
    public long MemoryPeak { get; init; }
    public long OomKills { get; init; }
    public TimeSpan CpuTime { get; init; }
    /// <summary>CPU use in percent of one CPU over the host service's last interval; null when the service does not run or the container is stopped.</summary>
    public double? CpuPercent { get; init; }
    public int ProcessCount { get; init; }
    /// <summary>First host uid of the container's user namespace.</summary>
    public long UidBase { get; init; }
    public string Path { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>The seccomp filter: Default, Unconfined, or the path of a custom profile.</summary>
    public string SeccompProfile { get; init; } = Containers.Runtime.SeccompProfile.Default;
    /// <summary>Why the container is Incomplete or Corrupt, or which of its settings this host cannot enforce (a swap limit without swap accounting).</summary>
    public string? StatusMessage { get; init; }
}
