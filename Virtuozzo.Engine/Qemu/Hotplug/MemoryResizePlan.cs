using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu.Hotplug;

/// <summary>
/// How a running VM changes size, as Virtuozzo 7 does it: growing deflates the balloon first and adds DIMMs only
/// for what the plugged RAM cannot cover; shrinking inflates the balloon (no DIMM is ever unplugged). Without
/// hotplug a running VM still shrinks, and grows back up to the RAM it has plugged, through the balloon. Pure.
/// </summary>
public sealed record MemoryResizePlan
{
    /// <summary>Balloon target before any DIMM goes in: all the plugged RAM (null: no balloon step first).</summary>
    public long? BalloonFirst { get; init; }
    /// <summary>The DIMM to add (a multiple of 128 MiB), or 0.</summary>
    public long DimmBytes { get; init; }
    /// <summary>The final balloon target: the new size.</summary>
    public long BalloonTarget { get; init; }
    /// <summary>True when the size cannot change live (it waits for the next start).</summary>
    public bool Deferred { get; init; }
    public string Note { get; init; } = "";

    /// <summary>How close the balloon must come to a target to count as there (the guest frees in 4 KiB pages, QEMU reports MiB-ish).</summary>
    public const long Slack = 16L << 20;

    /// <summary>RAM QEMU has plugged now: what it booted with plus hot-added DIMMs.</summary>
    public static long PluggedRam(VeConfig config)
    {
        var vm = config.Vm!;
        var dimms = vm.Dimms.Sum(d => d.Size);
        return (vm.BootMemorySize ?? config.Memory.MemorySize - dimms) + dimms;
    }

    public static MemoryResizePlan For(VeConfig current, long newSize)
    {
        var vm = current.Vm!;
        var plugged = PluggedRam(current);
        // A live shrink is a balloon target: it may not go below what the running VM was guaranteed (admission reserved
        // it, and the balloon never takes it back). Lowering the guarantee first is the explicit way down.
        var guaranteed = Memory.MemoryPlanner.Guarantee(current);
        if (newSize < current.Memory.MemorySize && newSize < guaranteed)
            throw new VzInvalidArgumentException("VzMemoryBelowGuarantee",
                $"'{current.Name}' is running with {guaranteed >> 20} MB guaranteed ({Memory.MemoryPlanner.EffectiveGuaranteePercent(current)} % of {current.Memory.MemorySize >> 20} MB); its balloon cannot go to {newSize >> 20} MB, below that guarantee.", current.Name, "MemorySize")
            { RecommendedAction = $"Ask for {guaranteed >> 20} MB or more, lower the guarantee first (Set-VzVm '{current.Name}' -MemGuarantee <percent>), or stop the VM and set the size cold." };
        if (newSize <= plugged)
            return new MemoryResizePlan
            {
                BalloonTarget = newSize,
                Note = newSize < current.Memory.MemorySize
                    ? $"The guest gives {(current.Memory.MemorySize - newSize) >> 20} MB back through its balloon; the plugged RAM ({plugged >> 20} MB) stays until the next cold start."
                    : $"The balloon deflates to {newSize >> 20} MB (of {plugged >> 20} MB plugged); no DIMM is needed.",
            };
        if (!vm.MemHotplug)
            return new MemoryResizePlan
            {
                Deferred = true,
                Note = $"Without memory hotplug a running VM grows only up to the {plugged >> 20} MB it has plugged: the new size applies at the next start (Set-VzVm -MemHotplug on a stopped VM of 1 GB or more).",
            };
        if (newSize > vm.MaxMemorySize)
            throw new VzInvalidArgumentException("VzMemoryAboveHotplugMax",
                $"'{current.Name}' can grow live to at most {vm.MaxMemorySize >> 20} MB (its hotplug maximum); {newSize >> 20} MB was asked.", current.Name, "MemorySize")
            { RecommendedAction = $"Ask for {vm.MaxMemorySize >> 20} MB or less, or stop the VM and set the size cold." };
        var dimm = (newSize - plugged + MemoryHotplug.DimmGranularity - 1) / MemoryHotplug.DimmGranularity * MemoryHotplug.DimmGranularity;
        if (plugged + dimm > vm.MaxMemorySize) dimm = vm.MaxMemorySize - plugged;
        if (vm.Dimms.Count >= QemuCommandLine.MemorySlots)
            throw new VzInvalidStateException("VzMemorySlotsFull",
                $"All {QemuCommandLine.MemorySlots} DIMM slots of '{current.Name}' are in use; it cannot grow live any more.", current.Name)
            { RecommendedAction = "Restart the VM (a cold start folds the DIMMs into its base RAM), then grow it." };
        return new MemoryResizePlan
        {
            BalloonFirst = plugged,
            DimmBytes = dimm,
            BalloonTarget = newSize,
            Note = $"The balloon deflated to all {plugged >> 20} MB plugged first; a {dimm >> 20} MB DIMM adds the rest.",
        };
    }
}
