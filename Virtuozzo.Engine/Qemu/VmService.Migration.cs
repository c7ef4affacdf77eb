using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qemu.CommandLine;
using Virtuozzo.Engine.Qemu.Migration;
using Virtuozzo.Engine.Qemu.Process;

namespace Virtuozzo.Engine.Qemu;

/// <summary>
/// The two QEMU ends of a move between hosts: on the destination a QEMU started paused (-S) with -incoming defer,
/// whose disks are exported over NBD for the source's mirror; on the source, the QEMU that is ended once the
/// destination confirmed. The orchestration lives in Engine/Migration.
/// </summary>
public sealed partial class VmService
{
    /// <summary>The NBD server socket of an incoming VM (the disk mirror's target).</summary>
    public static string IncomingNbdSocket(VmRuntimePaths rt) => Path.Combine(rt.RunDirectory, "nbd.sock");

    /// <summary>The socket the incoming VM listens on for the migration stream.</summary>
    public static string IncomingMigrationSocket(VmRuntimePaths rt) => Path.Combine(rt.RunDirectory, "migrate.sock");

    /// <summary>
    /// Starts the destination QEMU of a live move: same command line as a start, but paused (-S) and waiting for the
    /// stream (-incoming defer), admitted by guarantee first, placed in its cgroup, its tap on the bridge; then its
    /// disks are exported writable over NBD and it listens for the migration stream. On failure QEMU is ended.
    /// </summary>
    public async Task StartIncomingAsync(Guid id, CancellationToken ct)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var config = record.Config!;
        var name = config.Name;
        var rt = RuntimePaths(id);
        Admission?.Invoke(config);
        rt.ValidateSocketPaths();
        var caps = await host.GetAsync(false, ct);
        var built = QemuCommandLine.Build(config, rt, caps.Accelerator, p => ResolvePath(id, p)).ToList();
        built.InsertRange(built.IndexOf("-daemonize"), ["-S", "-incoming", "defer"]);
        var pid = await process.StartAsync(rt, built, name, CancellationToken.None);
        try
        {
            CgroupPlacement.Place(id, pid, config);
            if (config.Vm!.NetworkMode == Store.VmNetworkMode.Bridge && config.Vm.Bridge is { } br)
                await runner.RunAsync("ip", ["link", "set", "dev", QemuCommandLine.TapName(id), "master", br, "up"], new ProcessRunOptions { Target = name }, ct);
            if (AttachAdapters is { } attach) await attach(config, ct);
            await using var monitor = await OpenMonitorAsync(rt, name, ct);
            await monitor.NbdServerStartAsync(IncomingNbdSocket(rt), ct);
            foreach (var d in config.Vm.Disks) await monitor.BlockExportAddNbdAsync(d.Id, ct);
            await monitor.MigrateIncomingAsync("unix:" + IncomingMigrationSocket(rt), ct);
        }
        catch
        {
            await StopIncomingAsync(id);
            throw;
        }
        logger.LogInformation("Incoming QEMU for '{Name}' (pid {Pid}) waits for the migration stream.", name, pid);
    }

    /// <summary>
    /// After the source's stream completed and its mirrors finished: stops the NBD server, waits for the state to be
    /// loaded and lets the vCPUs run. The VM then runs here.
    /// </summary>
    public async Task FinishIncomingAsync(Guid id, CancellationToken ct)
    {
        var (rt, name) = Running(id);
        await using var monitor = await OpenMonitorAsync(rt, name, ct);
        await monitor.NbdServerStopAsync(ct);
        await VmStateFile.ResumeLoadedAsync(monitor, name, ct);
    }

    /// <summary>Ends an incoming QEMU (a failed or aborted move) and removes its run folder and cgroup; idempotent.</summary>
    public async Task StopIncomingAsync(Guid id)
    {
        var rt = RuntimePaths(id);
        if (QemuProcess.Inspect(rt) is { Alive: true, Pid: { } pid })
        {
            File.WriteAllText(rt.StoppingMarker, "migration aborted");
            await QemuProcess.KillAsync(pid, id, CancellationToken.None);
        }
        QemuProcess.CleanRunDirectory(rt);
        CgroupPlacement.Delete(id);
    }

    /// <summary>Ends the source QEMU of a VM that now runs on the destination (its state was sent; nothing is lost).</summary>
    public async Task ReleaseMigratedAsync(Guid id, CancellationToken ct)
    {
        var rt = RuntimePaths(id);
        if (QemuProcess.Inspect(rt) is { Alive: true, Pid: { } pid })
        {
            File.WriteAllText(rt.StoppingMarker, "migrated");
            await QemuProcess.TerminateAsync(pid, id, ct);
        }
        QemuProcess.CleanRunDirectory(rt);
        CgroupPlacement.Delete(id);
    }
}
