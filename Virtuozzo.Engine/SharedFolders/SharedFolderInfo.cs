using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.SharedFolders;

/// <summary>What Get-VzSharedFolder shows for one share of one VE.</summary>
public sealed record SharedFolderInfo
{
    /// <summary>The VE the folder is shared with (binds -VeName when piped on).</summary>
    public string VeName { get; init; } = "";
    public Guid VeId { get; init; }
    public VeType VeType { get; init; }
    /// <summary>The share's name; a VM's guest mounts it by this tag.</summary>
    public string Name { get; init; } = "";
    /// <summary>The host folder.</summary>
    public string Path { get; init; } = "";
    /// <summary>Where a container sees the folder; null for a VM.</summary>
    public string? GuestPath { get; init; }
    public bool ReadOnly { get; init; }
    /// <summary>What was asked for with -Transport (Auto unless set); containers always bind-mount.</summary>
    public SharedFolderTransport RequestedTransport { get; init; }
    /// <summary>How the folder reaches the VE: Bind (container), VirtioFs or NineP (VM) as attached now, or as the next start will attach it.</summary>
    public SharedFolderTransport Transport { get; init; }
    /// <summary>Whether the running VE has the folder now (false while stopped, and for a share added while it runs: it applies at the next start).</summary>
    public bool Active { get; init; }
    /// <summary>The share's virtiofsd, while it runs.</summary>
    public int? DaemonProcessId { get; init; }

    public override string ToString() => $"{VeName}:{Name}";
}
