using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// What the host service does with a VE by itself: boot order and delay, AutoStop, and for VMs autoballooning, KSM
/// merging and memory hotplug. Null leaves a setting alone.
/// </summary>
public sealed record VeAutomationChanges
{
    public const int MaxBootOrder = 9999;
    public const int MaxBootDelay = 3600;

    public int? BootOrder { get; init; }
    public int? BootDelay { get; init; }
    public VeAutoStop? AutoStop { get; init; }
    public bool? AutoBalloon { get; init; }
    public bool? MemMerge { get; init; }
    public bool? MemHotplug { get; init; }

    public bool IsEmpty => this == new VeAutomationChanges();

    public void Validate(object target)
    {
        if (BootOrder is < 0 or > MaxBootOrder)
            throw new VzInvalidArgumentException("VzInvalidBootOrder", $"BootOrder must be 0-{MaxBootOrder}; {BootOrder} was given.", target, "BootOrder");
        if (BootDelay is < 0 or > MaxBootDelay)
            throw new VzInvalidArgumentException("VzInvalidBootDelay", $"BootDelay must be 0-{MaxBootDelay} seconds; {BootDelay} was given.", target, "BootDelay");
    }

    /// <summary>Validates and stores the common settings of any VE under its lock (containers; VMs go through VmService).</summary>
    public VeConfig ApplyTo(VeStore store, Guid id, object target)
    {
        Validate(target);
        return store.Update(id, ApplyCommon);
    }

    /// <summary>The settings every VE has (the VM-only ones are applied by the VM area).</summary>
    public void ApplyCommon(VeConfig config)
    {
        if (BootOrder is { } order) config.BootOrder = order == 0 ? null : order;
        if (BootDelay is { } delay) config.BootDelay = delay == 0 ? null : delay;
        if (AutoStop is { } stop) config.AutoStop = stop == VeAutoStop.None ? null : stop;
        // A container's KSM merging (VMs store theirs through VmService): off is the default, so it is stored as null.
        if (MemMerge is { } merge && config.Container is { } ct) ct.MemMerge = merge ? true : null;
    }
}
