using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Memory;

/// <summary>
/// The memory manager's host-side view: builds the plan from the registry and live VE states, and applies admission
/// control before a VE starts or its guarantee grows.
/// </summary>
public sealed class MemoryService(VeStore store, Func<VeRecord, VeActivity> activityOf)
{
    public MemoryPlan GetPlan()
    {
        var mem = MemInfo.Read();
        return MemoryPlanner.Plan(Ves(), mem.Total, mem.Available);
    }

    /// <summary>Throws <see cref="Errors.VzInsufficientResourcesException"/> when <paramref name="candidate"/>'s guarantee does not fit.</summary>
    public void Admit(VeConfig candidate) => MemoryPlanner.Admit(candidate, Ves(), MemInfo.Read().Total);

    private IEnumerable<(VeConfig, VeActivity)> Ves() =>
        store.List().Where(r => r.Config is not null && r.State == VeRegistrationState.Ready).Select(r => (r.Config!, activityOf(r)));
}
