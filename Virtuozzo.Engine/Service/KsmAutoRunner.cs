using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Ksm;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Service;

/// <summary>
/// Applies Set-VzKsm -Policy Auto once a minute (ksmtuned's interval): reads KSM and the host's memory, sums the
/// running VMs' QEMU RSS, asks <see cref="KsmAutoPolicy"/>, and writes only what changed.
/// </summary>
public sealed class KsmAutoRunner(KsmControl ksm, HostServiceJournal journal, TimeProvider? clock = null)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(60);
    private readonly TimeProvider time = clock ?? TimeProvider.System;
    private DateTimeOffset nextAt = DateTimeOffset.MinValue;
    private bool advisorSet;

    public void Tick(KsmPolicyMode mode, IEnumerable<int> qemuPids)
    {
        var now = time.GetUtcNow();
        if (mode != KsmPolicyMode.Auto || now < nextAt) return;
        nextAt = now + Interval;
        var status = ksm.Read();
        if (!status.Available) return;
        try
        {
            if (ksm.HasAdvisor && !advisorSet) { ksm.EnableAdvisor(); advisorSet = true; }
            var committed = qemuPids.Sum(p => ProcMemory.ResidentBytes(p) ?? 0);
            var want = KsmAutoPolicy.Decide(MemInfo.Read(), committed, status, ksm.HasAdvisor);
            var change = new KsmSettings
            {
                Run = want.Run != status.Run ? want.Run : null,
                PagesToScan = want.PagesToScan is { } p && p != status.PagesToScan ? p : null,
                SleepMilliseconds = want.SleepMilliseconds is { } s && s != status.SleepMilliseconds ? s : null,
            };
            if (change == new KsmSettings()) return;
            ksm.Apply(change);
            if (change.Run is { } run)
                journal.Record("KsmPolicy", "ksm", $"run={(int)run} ({run}): VMs hold {committed >> 20} MiB{(ksm.HasAdvisor ? ", the kernel advisor sizes the scan" : "")}");
        }
        catch (VzException ex) { journal.Record("KsmPolicyFailed", "ksm", ex.Message, LogLevel.Warning); }
    }
}
