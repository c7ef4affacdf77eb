using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Memory;

/// <summary>
/// Guarantees, admission control and the static balancing policy of vcmmd, as pure functions of VE configs,
/// their activity and the host's memory. No I/O here: the caller supplies the inputs.
/// </summary>
public static class MemoryPlanner
{
    /// <summary>The guarantee percentage in force: the configured one, else the type's default.</summary>
    public static int EffectiveGuaranteePercent(VeConfig config) =>
        config.Memory.GuaranteePercent ?? (config.Type == VeType.VirtualMachine ? MemoryDefaults.VmGuaranteePercent : MemoryDefaults.ContainerGuaranteePercent);

    public static long Guarantee(VeConfig config) => config.Memory.MemorySize * EffectiveGuaranteePercent(config) / 100;

    /// <summary>QEMU's own memory plus the host page tables for guest RAM; containers cost nothing extra.</summary>
    public static long Overhead(VeConfig config) =>
        config.Type == VeType.VirtualMachine
            ? MemoryDefaults.VmOverheadBase + MemoryDefaults.OverheadPerPage * (config.Memory.MemorySize / MemoryDefaults.PageSize)
            : 0;

    /// <summary>What the host sets aside for the VE (vcmmd's mem_min): guarantee plus overhead.</summary>
    public static long Protection(VeConfig config) => Guarantee(config) + Overhead(config);

    public static MemoryPlan Plan(IEnumerable<(VeConfig Config, VeActivity Activity)> ves, long hostMemory, long hostAvailable)
    {
        var list = ves.ToList();
        var active = list.Where(v => v.Activity != VeActivity.Stopped).ToList();
        var reserved = MemoryDefaults.HostReserve(hostMemory) + MemoryDefaults.SystemReserve(hostMemory) + MemoryDefaults.UserReserve(hostMemory);
        var overheadActive = active.Sum(v => Overhead(v.Config));
        var available = Math.Max(0, hostMemory - reserved - overheadActive);
        var guaranteed = active.Sum(v => Protection(v.Config));
        var sumLimits = active.Sum(v => v.Config.Memory.MemorySize);
        var sumGuarantees = active.Sum(v => Guarantee(v.Config));

        long TargetOf(VeConfig c)
        {
            if (sumLimits <= available || sumLimits == sumGuarantees) return c.Memory.MemorySize;
            // Overcommitted: each active VE keeps its guarantee and gets a share of the rest in proportion to
            // how far its limit is above its guarantee.
            var g = Guarantee(c);
            var spare = Math.Max(0, available - sumGuarantees);
            return g + (long)((double)spare * (c.Memory.MemorySize - g) / (sumLimits - sumGuarantees));
        }

        var entries = list.Select(v => new MemoryPlanEntry
        {
            Name = v.Config.Name,
            Id = v.Config.Id,
            Type = v.Config.Type,
            State = v.Activity,
            MemorySize = v.Config.Memory.MemorySize,
            GuaranteePercent = EffectiveGuaranteePercent(v.Config),
            GuaranteeIsDefault = v.Config.Memory.GuaranteePercent is null,
            Guarantee = Guarantee(v.Config),
            Overhead = Overhead(v.Config),
            Protection = Protection(v.Config),
            Target = v.Activity == VeActivity.Stopped ? 0 : Math.Min(TargetOf(v.Config), v.Config.Memory.MemorySize),
        }).OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase).ToList();

        return new MemoryPlan
        {
            HostMemory = hostMemory,
            HostAvailable = hostAvailable,
            Reserved = reserved,
            AvailableForVes = available,
            GuaranteedMemory = guaranteed,
            FreeForGuarantees = Math.Max(0, hostMemory - guaranteed),
            CommittedMemory = sumLimits,
            OvercommitRatio = available == 0 ? 0 : Math.Round((double)sumLimits / available, 3),
            ActiveVeCount = active.Count,
            Entries = entries,
        };
    }

    /// <summary>
    /// Admission control: refuses to start (or to raise the guarantee of) <paramref name="candidate"/> when the
    /// protections of the active VEs plus its own would exceed host RAM.
    /// </summary>
    public static void Admit(VeConfig candidate, IEnumerable<(VeConfig Config, VeActivity Activity)> others, long hostMemory)
    {
        var used = others.Where(v => v.Activity != VeActivity.Stopped && v.Config.Id != candidate.Id).Sum(v => Protection(v.Config));
        var need = Protection(candidate);
        if (used + need <= hostMemory) return;
        throw new VzInsufficientResourcesException("VzGuaranteeUnavailable",
            $"'{candidate.Name}' needs {need >> 20} MiB guaranteed (guarantee {EffectiveGuaranteePercent(candidate)} % of {candidate.Memory.MemorySize >> 20} MiB plus overhead), " +
            $"but running VEs already hold {used >> 20} MiB of the host's {hostMemory >> 20} MiB.", candidate.Name)
        {
            RecommendedAction = "Lower its guarantee (-MemGuarantee), stop another VE, or lower the guarantees of running ones. See Get-VzMemoryPlan.",
        };
    }
}
