using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Service;

/// <summary>Which VEs the service starts at boot, and in what order: OnBoot ones by BootOrder, then by name (pure).</summary>
public static class OnBootPlan
{
    public static IReadOnlyList<VeConfig> Order(IEnumerable<VeConfig> configs) =>
        configs.Where(c => c.OnBoot)
            .OrderBy(c => c.BootOrder ?? 0)
            .ThenBy(c => c.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
}
