namespace Virtuozzo.Engine.Ksm;

/// <summary>Kernel same-page merging: its settings and how much it saves, read from /sys/kernel/mm/ksm.</summary>
public sealed record KsmStatus
{
    public bool Available { get; init; }
    /// <summary>Who decides the settings: Manual (Set-VzKsm values) or Auto (the host service, ksmtuned's rules or the kernel advisor).</summary>
    public KsmPolicyMode Policy { get; init; }
    /// <summary>The kernel's KSM advisor mode (none, scan-time), where the kernel has one (6.7+).</summary>
    public string? AdvisorMode { get; init; }
    public KsmRunMode Run { get; init; }
    public bool Enabled => Run == KsmRunMode.Running;
    public int PagesToScan { get; init; }
    public int SleepMilliseconds { get; init; }
    public bool? MergeAcrossNodes { get; init; }
    /// <summary>Distinct merged pages in use.</summary>
    public long PagesShared { get; init; }
    /// <summary>Pages that point at a shared page: the saving, in pages.</summary>
    public long PagesSharing { get; init; }
    public long PagesUnshared { get; init; }
    public long PagesVolatile { get; init; }
    public long FullScans { get; init; }
    /// <summary>Memory saved by merging: pages_sharing × page size.</summary>
    public long SavedBytes { get; init; }
    /// <summary>The kernel's own net figure (saved minus KSM's bookkeeping), when it reports one.</summary>
    public long? GeneralProfitBytes { get; init; }
}
