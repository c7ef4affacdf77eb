namespace Virtuozzo.Engine.Memory.Balloon;

/// <summary>
/// The autoballoon policy for one VM: no I/O, fed one <see cref="BalloonSample"/> per loop, answering with a
/// <see cref="BalloonDecision"/>. The caller sends the target with QMP <c>balloon</c> and reports it with
/// <see cref="Sent"/>.
/// <list type="bullet">
/// <item>Never below the guarantee: every target is clamped to [guarantee, size], and a balloon found below the
/// guarantee is restored at once.</item>
/// <item>Idle VMs give memory back without host pressure (Proxmox and MoM only do it under pressure): target =
/// max(working set × (1 + buffer), guarantee), the working set being the largest use over a short window.</item>
/// <item>A guest short of available memory is deflated at once, exempt from the rate limit; so is a ballooned guest
/// whose use climbs above its working set at a rate that would eat its headroom within <see cref="BurstWatchSeconds"/>
/// (a burst is deflated at the first sample that shows it, not when it has already eaten the buffer: a slow climb
/// under TCG used to wait 7 s for the trigger).</item>
/// <item>The decision compares with what the guest has (actual), not with the last target, and a target the guest
/// missed is re-sent (vcmmd PSBM-48383 cached its target and stalled): once at once when the guest stops short of it
/// (or an urgent deflate took it away and the burst is over), then no more often than the rate limit.</item>
/// <item>Steady state: one new target per VM per <see cref="BalloonPolicySettings.MinIntervalSeconds"/> at most, and
/// none for a change inside the deadband max(64 MiB, 2 % of RAM).</item>
/// </list>
/// </summary>
public sealed class BalloonPolicy(BalloonPolicySettings settings)
{
    public const long MiB = 1L << 20;
    /// <summary>Changes smaller than this are noise (MoM skips under 0.25 %, vcmmd under 16-32 MiB).</summary>
    public const long MinDeadband = 64 * MiB;
    /// <summary>Host pressure (PSI some avg10 %, or MemAvailable under 10 %) halves the buffer.</summary>
    public const double PressurePsi = 10.0;
    /// <summary>Guest stats older than this are the stats of a driver that went away.</summary>
    public static readonly TimeSpan StaleStats = TimeSpan.FromSeconds(30);
    /// <summary>
    /// A burst's deflate covers what the climb takes over this many seconds: about one sample, the command and the
    /// guest's deflate, so the guest is not short again before the next sample can ask for more.
    /// </summary>
    public const double BurstHorizonSeconds = 3.0;
    /// <summary>
    /// A climb that would eat the guest's headroom within this many seconds is a burst, however slow it is now: an
    /// allocation that starts slowly (a loaded TCG guest did 28 MiB/s) still wants its memory within seconds, and a
    /// deflate costs the host nothing it cannot reclaim again once the window has seen the VM idle.
    /// </summary>
    public const double BurstWatchSeconds = 30.0;
    /// <summary>Growth above the window's working set smaller than this is noise, not a burst.</summary>
    public const long MinBurstGrowth = 16 * MiB;
    /// <summary>After an inflate command, stats and actual may disagree for about two of the guest's 1 s stats refreshes.</summary>
    public static readonly TimeSpan InflateSettle = TimeSpan.FromSeconds(2);
    /// <summary>A previous sample older than this says nothing about the rate now.</summary>
    public static readonly TimeSpan MaxBurstSampleGap = TimeSpan.FromSeconds(5);
    /// <summary>
    /// A guest whose balloon has not moved for this long, short of the target it was sent, stopped there: the target is
    /// re-sent. A loaded TCG guest moves its balloon every 0.5-1 s while it still works toward the target (measured at
    /// load 26: 7-25 MiB/s, never 3 s without a step), so a guest still on its way is not asked again.
    /// </summary>
    public static readonly TimeSpan StallSeconds = TimeSpan.FromSeconds(3);

    private readonly Queue<(DateTimeOffset Time, long Used)> window = new();
    private long? previousActual;
    private DateTimeOffset? actualMovedAt;
    /// <summary>Whether the one prompt re-send of <see cref="LastSteadyTarget"/> went out (later ones wait the rate limit).</summary>
    private bool promptResendUsed;
    /// <summary>The most the guest used since the last urgent deflate: a burst is over once the window's working set fell clearly below it.</summary>
    private long burstPeak;

    public BalloonPolicySettings Settings { get; } = settings;

    /// <summary>The last target sent and when; null until the first command (or after a service restart).</summary>
    public long? LastTarget { get; private set; }
    public DateTimeOffset? LastSentAt { get; private set; }

    /// <summary>
    /// The last new steady-state target (grow, reclaim) and when it went out, and when the last urgent deflate and the
    /// last re-send went out. The rate limit counts new targets from <see cref="LastSteadySentAt"/>; an urgent deflate
    /// holds steady commands back only for the working-set window (the time the window needs to see what the burst
    /// left). A re-send of <see cref="LastSteadyTarget"/> is no new target: the first goes out as soon as the guest
    /// stopped short of it or a burst's deflate is over, later ones every rate-limit interval. Traced on the 4-VM
    /// bench: VMs reclaimed while idle, then deflated by their guest's 700 MiB touch, kept the whole GiB after the
    /// free until 30 s after that first reclaim (the floor at 45 s, not ~10 s).
    /// </summary>
    public long? LastSteadyTarget { get; private set; }
    public DateTimeOffset? LastSteadySentAt { get; private set; }
    public DateTimeOffset? LastUrgentSentAt { get; private set; }
    public DateTimeOffset? LastResendAt { get; private set; }

    /// <summary>
    /// Records a command that went out (also one sent by hotplug or a person, so the policy does not undo it at once).
    /// <paramref name="resend"/>: the same steady target sent again (does not restart the rate limit of new targets).
    /// </summary>
    public void Sent(long target, DateTimeOffset at, bool urgent = false, bool resend = false)
    {
        LastTarget = target;
        LastSentAt = at;
        if (urgent)
        {
            LastUrgentSentAt = at;
            burstPeak = 0;
        }
        else if (resend)
        {
            // The first re-send after a burst's deflate is the guest's first command since the burst: a guest that misses
            // it still gets its one prompt re-send. A re-send for a guest that stood still uses that one up.
            promptResendUsed = !BurstSinceLastRoutine;
            LastResendAt = at;
        }
        else
        {
            LastSteadyTarget = target;
            LastSteadySentAt = at;
            promptResendUsed = false;
        }
    }

    /// <summary>A policy with other settings that carries this one's command history (the rate limits hold across a settings change).</summary>
    public BalloonPolicy WithSettings(BalloonPolicySettings newSettings) => new(newSettings)
    {
        LastTarget = LastTarget, LastSentAt = LastSentAt, LastSteadyTarget = LastSteadyTarget, LastSteadySentAt = LastSteadySentAt,
        LastUrgentSentAt = LastUrgentSentAt, LastResendAt = LastResendAt, promptResendUsed = promptResendUsed, burstPeak = burstPeak,
    };

    public BalloonDecision Decide(BalloonSample s)
    {
        var floor = Math.Min(s.Guarantee, s.MemorySize);
        var ceiling = s.MemorySize;
        var deadband = Math.Max(MinDeadband, s.MemorySize / 50);
        long Clamp(long v) => Math.Clamp(v, floor, ceiling);

        // The guarantee comes first, whatever else holds: a balloon below it is a broken promise.
        if (s.Actual < floor - MiB && !s.Paused)
            return new BalloonDecision { Target = Math.Max(floor, LastTarget ?? floor), Urgent = true, Reason = BalloonReason.BelowGuarantee, DesiredTarget = floor,
                Detail = $"balloon actual {s.Actual / MiB} MiB is below the guarantee {floor / MiB} MiB" };
        if (s.Paused)
            return new BalloonDecision { Reason = BalloonReason.Paused, DesiredTarget = s.Actual, Detail = "a resize or a move to another host is in progress" };
        if (s.OptedOut || !Settings.Enabled)
        {
            // Give everything back (not only what exceeds the deadband), then leave the VM alone.
            var back = s.Actual < ceiling - MiB && NewTargetAllowed(s.Time);
            return new BalloonDecision { Target = back ? ceiling : null, Reason = BalloonReason.OptedOut, DesiredTarget = ceiling,
                Detail = back ? "autoballooning is off: returning all memory" : "autoballooning is off" };
        }
        if (s.Guest is not { } g || g.Total <= 0 || s.Time - g.UpdatedAt > StaleStats)
            return new BalloonDecision { Reason = BalloonReason.NoGuestStats, DesiredTarget = s.Actual, Detail = "the guest reports no balloon stats" };

        var used = g.UsedExcludingBalloon(s.Actual);
        var before = ClimbBaseline(used);
        var previous = window.Count > 0 ? window.Last() : ((DateTimeOffset Time, long Used)?)null;
        // While the balloon inflates, the guest's stats and QEMU's actual are read at different moments: the pages the
        // balloon took already count as used in the stats while actual still says the guest has them, so use seems to
        // climb by what the balloon took. That is no burst (it deflated every reclaim straight back, measured on TCG).
        // Only while actual moves, or within two stats refreshes of an inflate command (the guest may have taken pages
        // before it reports a new actual): after that the stats cannot be ahead of actual, and a guest that stops short
        // of its target must not lose its burst protection for good. Any fall of actual counts as moving: a slow TCG
        // guest inflated 976 to 975 MiB between two 0.5 s samples while its stats showed 26 MiB more used (bench,
        // 2026-12-01), and only QEMU's balloon makes actual fall.
        var inflating = (previousActual is { } pa && pa > s.Actual)
            || (LastTarget is { } inflateTo && inflateTo < s.Actual - MiB && LastSentAt is { } sentAt && s.Time - sentAt < InflateSettle);
        if (previousActual is not { } before0 || Math.Abs(before0 - s.Actual) > MiB || actualMovedAt is null) actualMovedAt = s.Time;
        previousActual = s.Actual;
        window.Enqueue((s.Time, used));
        while (window.Count > 0 && s.Time - window.Peek().Time > TimeSpan.FromSeconds(Settings.WorkingSetWindowSeconds)) window.Dequeue();
        var workingSet = window.Max(w => w.Used);
        burstPeak = Math.Max(burstPeak, used);

        var hostPressure = s.Host.PressureSomeAvg10 >= PressurePsi || (s.Host.Total > 0 && s.Host.Available < s.Host.Total / 10);
        var bufferPercent = hostPressure ? Settings.BufferPercent / 2 : Settings.BufferPercent;
        var desired = Clamp(Align(workingSet + workingSet * bufferPercent / 100));

        // Urgent: the guest runs short now. Give it what the window says plus its buffer, and never less than a
        // quarter of its RAM more than it has: an allocation burst keeps going while the command travels.
        var low = (long)(s.Actual * (Settings.LowAvailablePercent / 100.0));
        if (g.Available < Math.Max(low, 32 * MiB) && s.Actual < ceiling)
        {
            var target = Clamp(Math.Max(desired, Align(s.Actual + Math.Max(ceiling / 4, 256 * MiB))));
            return new BalloonDecision { Target = target, Urgent = true, Reason = BalloonReason.UrgentDeflate, WorkingSet = workingSet, DesiredTarget = target,
                Detail = $"guest available {g.Available / MiB} MiB is under {Settings.LowAvailablePercent} % of {s.Actual / MiB} MiB" };
        }

        // Burst: use climbs above everything the window saw, fast enough to eat the rest within the watch horizon.
        // Deflate now, by what the climb would take over the (short) command horizon (at least the urgent step above),
        // and only when that asks clearly more than the last target, so a burst is one or two commands, not one per sample.
        var lowMark = Math.Max(low, 32 * MiB);
        if (before is { } seen && previous is { } prev && s.Time > prev.Time && s.Time - prev.Time <= MaxBurstSampleGap
            && used - seen >= MinBurstGrowth && used > prev.Used && s.Actual < ceiling && !inflating)
        {
            var perSecond = (used - prev.Used) / (s.Time - prev.Time).TotalSeconds;
            var headroom = g.Available - lowMark;
            if (perSecond * BurstWatchSeconds > headroom)
            {
                var target = Clamp(Math.Max(Math.Max(desired, Align(s.Actual + Math.Max(ceiling / 4, 256 * MiB))),
                    Align(used + (long)(perSecond * BurstHorizonSeconds) + lowMark)));
                // ...and when it gives the guest something: a balloon already all but empty has nothing left to give.
                if ((LastTarget is not { } asked || asked < s.Actual || target - asked >= deadband) && target - s.Actual >= MinBurstGrowth)
                    return new BalloonDecision { Target = target, Urgent = true, Reason = BalloonReason.UrgentDeflate, WorkingSet = workingSet, DesiredTarget = target,
                        Detail = $"guest use climbs {perSecond / MiB:0} MiB/s above its working set: {g.Available / MiB} MiB available lasts under {BurstWatchSeconds:0} s" };
            }
        }

        // Compare with what the guest has, not with what we asked for: a missed target is seen and re-sent.
        if (Math.Abs(desired - s.Actual) < deadband)
            return new BalloonDecision { Reason = BalloonReason.Steady, WorkingSet = workingSet, DesiredTarget = desired,
                Detail = $"working set {workingSet / MiB} MiB, actual {s.Actual / MiB} MiB within {deadband / MiB} MiB of the goal" };

        var reason = desired > s.Actual ? BalloonReason.Grow : BalloonReason.Reclaim;
        // No reclaim while use climbs: a VM at its full size has no burst rule, and a reclaim to what the window saw so
        // far of a climb (traced: 718 MiB halfway through a 700 MiB dd) is deflated again within seconds and, worse,
        // restarts the rate limit, so the reclaim after the job ends waited 30 s for it (a plateau at 718 MiB).
        if (reason == BalloonReason.Reclaim && Climbing(s.Time))
            return new BalloonDecision { Reason = BalloonReason.Steady, WorkingSet = workingSet, DesiredTarget = desired,
                Detail = $"use climbs ({used / MiB} MiB now): no reclaim until it stops" };
        // A reclaim while the window still remembers clearly more use than now would be the first of two (the second
        // waiting out the rate limit): wait until the window has seen the fall, then reclaim once, to the floor it shows.
        if (reason == BalloonReason.Reclaim && workingSet - used >= deadband)
            return new BalloonDecision { Reason = BalloonReason.Steady, WorkingSet = workingSet, DesiredTarget = desired,
                Detail = $"use fell to {used / MiB} MiB from {workingSet / MiB} MiB: the reclaim waits until the {Settings.WorkingSetWindowSeconds} s window has seen it" };

        // The last steady target, which the guest does not hold (it stopped short, or a burst's deflate took it away):
        // what the policy wants is that target again (or more of the same way: a lower goal passes through it).
        var missed = LastSteadyTarget is { } steadyTarget && Math.Abs(s.Actual - steadyTarget) >= deadband
            && (Math.Abs(desired - steadyTarget) < deadband || (desired < steadyTarget && steadyTarget < s.Actual)) ? LastSteadyTarget : null;
        if (missed is { } lower && lower < s.Actual && Climbing(s.Time))
            return new BalloonDecision { Reason = BalloonReason.Steady, WorkingSet = workingSet, DesiredTarget = desired,
                Detail = $"use climbs ({used / MiB} MiB now): the {lower / MiB} MiB asked before waits until it stops" };
        if (missed is { } again && LastSentAt is { } lastSentAt && !UrgentHolds(s.Time))
        {
            // Still on its way (the balloon moved within the stall time, or the command is that recent): leave it be.
            var moving = s.Time - lastSentAt < StallSeconds || (actualMovedAt is { } moved && s.Time - moved < StallSeconds);
            // The one prompt re-send: for a guest that stopped short, or once a burst that took the target away is over
            // (the window's working set clearly below the burst's peak: a VM whose use keeps swinging is no finished
            // burst, and it gets the rate limit as before). Any later re-send waits the interval since the last command.
            var burstTookIt = BurstSinceLastRoutine;
            var prompt = burstTookIt ? burstPeak - workingSet >= deadband : !promptResendUsed;
            var due = prompt || LastRoutineAt is not { } lr || s.Time - lr >= TimeSpan.FromSeconds(Settings.MinIntervalSeconds);
            if (!moving && due && (Math.Abs(desired - again) < deadband || !NewTargetAllowed(s.Time)))
                return new BalloonDecision { Target = again, Reason = BalloonReason.Resend, WorkingSet = workingSet, DesiredTarget = desired, Resend = true,
                    Detail = burstTookIt
                        ? $"the burst is over (working set {workingSet / MiB} MiB): back to the {again / MiB} MiB asked before it"
                        : $"the guest stopped at {s.Actual / MiB} MiB, not the {again / MiB} MiB asked; asking again" };
            if (Math.Abs(desired - again) < deadband)
                return new BalloonDecision { Reason = moving ? BalloonReason.Steady : BalloonReason.RateLimited, WorkingSet = workingSet, DesiredTarget = desired,
                    Detail = moving ? $"the balloon moves toward the {again / MiB} MiB asked ({s.Actual / MiB} MiB now)"
                        : $"the guest holds {s.Actual / MiB} MiB, not the {again / MiB} MiB asked; the re-send waits for the {Settings.MinIntervalSeconds} s rate limit" };
        }
        if (!NewTargetAllowed(s.Time))
            return new BalloonDecision { Reason = BalloonReason.RateLimited, WorkingSet = workingSet, DesiredTarget = desired,
                Detail = $"{reason} to {desired / MiB} MiB waits for the {Settings.MinIntervalSeconds} s rate limit" };
        var detail = reason switch
        {
            BalloonReason.Grow => $"working set {workingSet / MiB} MiB grew: {desired / MiB} MiB (+{bufferPercent} %)",
            _ => $"working set {workingSet / MiB} MiB: {desired / MiB} MiB (+{bufferPercent} %{(hostPressure ? ", host under pressure" : "")}), floor {floor / MiB} MiB",
        };
        return new BalloonDecision { Target = desired, Reason = reason, WorkingSet = workingSet, DesiredTarget = desired, Detail = detail };
    }

    /// <summary>
    /// The use before the climb that ends at <paramref name="used"/>: the largest use the window saw outside the run of
    /// rising samples at its end, or where that run started. A slow climb sampled often gains little per sample, so
    /// comparing with the window's plain maximum (which holds the climb's own last sample) would never see it.
    /// </summary>
    private long? ClimbBaseline(long used)
    {
        if (window.Count == 0) return null;
        var samples = window.ToArray();
        var i = samples.Length - 1;
        var start = used;
        while (i >= 0 && samples[i].Used < start) start = samples[i--].Used;
        for (var j = 0; j <= i; j++) start = Math.Max(start, samples[j].Used);
        return start;
    }

    /// <summary>
    /// Use rises: its mean over the last <see cref="ClimbSeconds"/> is clearly (<see cref="MinBurstGrowth"/>) above its
    /// mean over the <see cref="ClimbSeconds"/> before. Means, not single samples: a dd on a loaded TCG guest climbs
    /// 7-15 MiB/s with pauses of seconds (traced in the bench at load 25, where a 3 s rise test missed it and the
    /// policy reclaimed three times on the way up), while use that swings in place (a build) has equal means.
    /// </summary>
    private bool Climbing(DateTimeOffset now)
    {
        long recent = 0, before = 0;
        int recentCount = 0, beforeCount = 0;
        foreach (var (time, u) in window)
        {
            var age = now - time;
            if (age < ClimbSeconds) { recent += u; recentCount++; }
            else if (age < ClimbSeconds * 2) { before += u; beforeCount++; }
        }
        return recentCount > 0 && beforeCount > 0 && recent / recentCount - before / beforeCount >= MinBurstGrowth;
    }

    /// <summary>The span of each of the two means <see cref="Climbing"/> compares.</summary>
    public static readonly TimeSpan ClimbSeconds = TimeSpan.FromSeconds(3);

    /// <summary>The last steady command, new target or re-send.</summary>
    private DateTimeOffset? LastRoutineAt => LastResendAt is { } r && r > (LastSteadySentAt ?? r) ? r : LastSteadySentAt;

    /// <summary>An urgent deflate went out after the last steady command: the guest lost that target to a burst.</summary>
    private bool BurstSinceLastRoutine => LastUrgentSentAt is { } u && LastRoutineAt is { } routine && u > routine;

    /// <summary>A new steady target: one per rate-limit interval, and none while a burst's deflate holds.</summary>
    private bool NewTargetAllowed(DateTimeOffset now) =>
        (LastSteadySentAt is not { } steady || now - steady >= TimeSpan.FromSeconds(Settings.MinIntervalSeconds)) && !UrgentHolds(now);

    /// <summary>An urgent deflate holds steady commands back for the working-set window (what the burst leaves must show first).</summary>
    private bool UrgentHolds(DateTimeOffset now) =>
        LastUrgentSentAt is { } urgent && now - urgent < TimeSpan.FromSeconds(Math.Max(Settings.WorkingSetWindowSeconds, 1));

    /// <summary>Targets in whole MiB (QEMU takes bytes; the guest frees 4 KiB pages, so finer buys nothing).</summary>
    private static long Align(long bytes) => bytes / MiB * MiB;
}
