using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Ksm;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Service;

/// <summary>
/// Applies Set-VzKsm -Policy Auto once a minute (ksmtuned's interval), and at once when the policy turns Auto or the
/// set of mergeable VEs changes (a VM started: its memory should merge within the scan time, not a minute later).
/// Reads KSM and the host's memory, sums QEMU RSS, asks <see cref="KsmAutoPolicy"/>, and writes only what changed.
/// </summary>
public sealed class KsmAutoRunner(KsmControl ksm, HostServiceJournal journal, TimeProvider? clock = null)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(60);
    private readonly TimeProvider time = clock ?? TimeProvider.System;
    private DateTimeOffset nextAt = DateTimeOffset.MinValue;
    private DateTimeOffset backOffUntil = DateTimeOffset.MinValue;
    private bool advisorSet;
    private long? scansAtStart;
    private HashSet<int> lastMergeable = [];
    private KsmPolicyMode lastMode = KsmPolicyMode.Manual;

    /// <param name="mode">The policy in force.</param>
    /// <param name="qemuPids">Every running VM's QEMU (ksmtuned's committed memory).</param>
    /// <param name="mergeablePids">The processes whose memory is offered to KSM (QEMU of VMs with MemMerge).</param>
    public void Tick(KsmPolicyMode mode, IEnumerable<int> qemuPids, IEnumerable<int> mergeablePids)
    {
        var now = time.GetUtcNow();
        var mergeable = mergeablePids.ToHashSet();
        var changed = mode != lastMode || !mergeable.SetEquals(lastMergeable);
        lastMode = mode;
        lastMergeable = mergeable;
        if (mode != KsmPolicyMode.Auto || (now < nextAt && !changed)) return;
        nextAt = now + Interval;
        var status = ksm.Read();
        if (!status.Available) return;
        try
        {
            if (ksm.HasAdvisor && !advisorSet) { ksm.EnableAdvisor(KsmAutoPolicy.AdvisorMaxCpuPercent); advisorSet = true; }
            var committed = qemuPids.Sum(p => ProcMemory.ResidentBytes(p) ?? 0);
            var mergeableBytes = mergeable.Sum(p => ProcMemory.ResidentBytes(p) ?? 0);
            // A ksmd someone else started counts from now: the back-off judges only the runs it watched from their start.
            if (status.Run == KsmRunMode.Running) scansAtStart ??= status.FullScans;
            var decision = KsmAutoPolicy.Decide(new KsmAutoInput(MemInfo.Read(), committed, mergeableBytes, status, ksm.HasAdvisor,
                ScansSinceStart: scansAtStart is { } s0 ? status.FullScans - s0 : 0, BackingOff: now < backOffUntil));
            if (decision.BackOff) backOffUntil = now + KsmAutoPolicy.BackOff;
            var want = decision.Settings;
            var change = new KsmSettings
            {
                Run = want.Run != status.Run ? want.Run : null,
                PagesToScan = want.PagesToScan is { } p && p != status.PagesToScan ? p : null,
                SleepMilliseconds = want.SleepMilliseconds is { } ms && ms != status.SleepMilliseconds ? ms : null,
            };
            if (want.Run == KsmRunMode.Running && status.Run != KsmRunMode.Running) scansAtStart = status.FullScans;
            if (want.Run != KsmRunMode.Running) scansAtStart = null;
            if (change == new KsmSettings()) return;
            ksm.Apply(change);
            if (change.Run is { } run)
                journal.Record("KsmPolicy", "ksm", $"run={(int)run} ({run}): {decision.Reason}");
        }
        catch (VzException ex) { journal.Record("KsmPolicyFailed", "ksm", ex.Message, LogLevel.Warning); }
    }
}
