using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Agent;
using Virtuozzo.Engine.Qemu.Process;

namespace Virtuozzo.Engine.Qemu.Snapshots;

/// <summary>
/// A guest file system freeze with a guaranteed thaw. Frozen guests hang every writer, and the field reports of
/// backup tools (virtnbdbackup #59/#102, Azure extensions #951) are freezes nobody thawed, so the thaw has three
/// paths: <see cref="DisposeAsync"/> (the finally of the caller), a timer that thaws after <see cref="FreezeTimeout"/>
/// even while the caller is still busy, and a detached watchdog process that thaws through the agent socket when
/// the process holding the freeze dies (kill -9, a crashed pwsh) before either could run. A marker file in the run
/// folder says a freeze is in force; whoever thaws removes it, and the watchdog ends when it is gone.
/// </summary>
public sealed class GuestFreeze : IAsyncDisposable
{
    /// <summary>The longest a guest stays frozen, whatever the caller does.</summary>
    public static readonly TimeSpan FreezeTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan AgentWait = TimeSpan.FromSeconds(10);

    private readonly VmRuntimePaths rt;
    private readonly string name;
    private readonly ILogger logger;
    private readonly SemaphoreSlim thawGate = new(1, 1);
    private readonly Stopwatch frozenFor = new();
    private QemuAgent? agent;
    private Timer? timeoutTimer;
    private bool thawed;

    private GuestFreeze(VmRuntimePaths rt, string name, ILogger logger)
    {
        this.rt = rt;
        this.name = name;
        this.logger = logger;
    }

    /// <summary>The marker present while a freeze is in force (owner pid inside).</summary>
    public static string MarkerPath(VmRuntimePaths rt) => Path.Combine(rt.RunDirectory, "fsfreeze");

    /// <summary>How many file systems the guest froze.</summary>
    public int FrozenFileSystems { get; private set; }

    /// <summary>Freeze to thaw, measured around the agent's replies.</summary>
    public TimeSpan FrozenDuration => frozenFor.Elapsed;

    /// <summary>True when the timeout thawed the guest before the caller was done: the result is not application-consistent.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>
    /// Freezes the guest's file systems, or returns null when there is no agent to do it (the caller's snapshot is
    /// then crash-consistent, and says so). A freeze that fails half-way is thawed before this returns null.
    /// </summary>
    public static async Task<GuestFreeze?> TryFreezeAsync(VmRuntimePaths rt, string name, ILogger logger, CancellationToken cancellationToken)
    {
        if (await AgentChannel.IsOpenAsync(rt, name, cancellationToken) == false)
        {
            logger.LogWarning("The guest agent of '{Name}' is not connected: the snapshot is crash-consistent (no file system freeze).", name);
            return null;
        }
        var freeze = new GuestFreeze(rt, name, logger);
        try
        {
            freeze.agent = await QemuAgent.OpenAsync(rt, name, AgentWait, cancellationToken);
        }
        catch (VzException ex)
        {
            logger.LogWarning("The guest agent of '{Name}' does not answer ({Error}): the snapshot is crash-consistent.", name, ex.Message);
            return null;
        }
        File.WriteAllText(MarkerPath(rt), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        FreezeWatchdog.Start(MarkerPath(rt), rt.QgaSocket, rt.QgaLock, Environment.ProcessId, logger);
        try
        {
            freeze.frozenFor.Start();
            freeze.FrozenFileSystems = await freeze.agent.FsFreezeAsync(AgentWait, CancellationToken.None);
            freeze.timeoutTimer = new Timer(_ => _ = freeze.ThawAsync(timedOut: true), null, FreezeTimeout, Timeout.InfiniteTimeSpan);
            logger.LogInformation("Froze {Count} file system(s) in '{Name}'.", freeze.FrozenFileSystems, name);
            return freeze;
        }
        catch (Exception ex) when (ex is VzException or OperationCanceledException)
        {
            logger.LogWarning("Freezing the file systems of '{Name}' failed ({Error}); thawing, and the snapshot is crash-consistent.", name, ex.Message);
            await freeze.DisposeAsync();
            return null;
        }
    }

    /// <summary>Thaws once, whichever path comes first. A session poisoned by a timed-out call is replaced.</summary>
    private async Task ThawAsync(bool timedOut)
    {
        await thawGate.WaitAsync();
        try
        {
            if (thawed) return;
            thawed = true;
            if (timedOut)
            {
                TimedOut = true;
                logger.LogWarning("The guest of '{Name}' stayed frozen for {Seconds:0} s; thawing it now.", name, FreezeTimeout.TotalSeconds);
            }
            for (var attempt = 0; attempt < 2; attempt++)
            {
                try
                {
                    agent ??= await QemuAgent.OpenAsync(rt, name, AgentWait, CancellationToken.None);
                    await agent.FsThawAsync(AgentWait, CancellationToken.None);
                    break;
                }
                catch (VzException ex)
                {
                    logger.LogWarning("Thawing '{Name}' failed ({Error}){Retry}.", name, ex.Message, attempt == 0 ? "; retrying on a new agent session" : "");
                    if (agent is not null) await agent.DisposeAsync();
                    agent = null;
                }
            }
            frozenFor.Stop();
            try { File.Delete(MarkerPath(rt)); } catch (IOException) { }
        }
        finally { thawGate.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        if (timeoutTimer is not null) await timeoutTimer.DisposeAsync();
        await ThawAsync(timedOut: false);
        if (agent is not null) await agent.DisposeAsync();
        agent = null;
    }
}
