using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Memory;

/// <summary>
/// The memory manager's host-side view: builds the plan from the registry and live VE states, and applies admission
/// control before a VE starts or its guarantee grows.
/// </summary>
public sealed class MemoryService(VeStore store, Func<VeRecord, VeActivity> activityOf)
{
    /// <summary>The memory manager's live view of a running VM (the host service's cache), null when there is none.</summary>
    public Func<Guid, Qemu.VmLiveState?>? LiveStateOf { get; init; }

    public MemoryPlan GetPlan()
    {
        var mem = MemInfo.Read();
        var plan = MemoryPlanner.Plan(Ves(), mem.Total, mem.Available);
        if (LiveStateOf is null) return plan;
        return plan with
        {
            Entries = plan.Entries.Select(e => e.Type == VeType.VirtualMachine && e.State != VeActivity.Stopped && LiveStateOf(e.Id) is { } live
                ? e with
                {
                    BalloonActual = live.BalloonActual,
                    BalloonTarget = live.BalloonTarget,
                    WorkingSet = live.WorkingSet,
                    GivenBack = live.BalloonActual is { } a ? Math.Max(0, e.MemorySize - a) : null,
                    HostResident = live.HostResident,
                    LastDecision = live.LastDecision,
                    LastDecisionReason = live.LastDecisionReason,
                    LastDecisionAt = live.LastDecisionAt,
                }
                : e).ToList(),
        };
    }

    /// <summary>Throws <see cref="Errors.VzInsufficientResourcesException"/> when <paramref name="candidate"/>'s guarantee does not fit.</summary>
    public void Admit(VeConfig candidate) => MemoryPlanner.Admit(candidate, ProtectedVes(), MemInfo.Read().Total);

    /// <summary>
    /// The VEs that set memory aside (a guarantee or overhead), with their activity. Only they count in admission,
    /// and asking every VE whether it runs would make each start cost a read per VE on the host (hundreds of
    /// containers with the default 0 % guarantee).
    /// </summary>
    private IEnumerable<(VeConfig, VeActivity)> ProtectedVes() =>
        store.List().Where(r => r.Config is not null && r.State == VeRegistrationState.Ready && MemoryPlanner.Protection(r.Config) > 0)
            .Select(r => (r.Config!, activityOf(r)));

    private IEnumerable<(VeConfig, VeActivity)> Ves() =>
        store.List().Where(r => r.Config is not null && r.State == VeRegistrationState.Ready).Select(r => (r.Config!, activityOf(r)));
}
