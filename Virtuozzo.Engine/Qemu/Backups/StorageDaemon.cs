using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Qemu.Monitor;

namespace Virtuozzo.Engine.Qemu.Backups;

/// <summary>
/// QEMU's block layer without a guest (qemu-storage-daemon), for the disks of a stopped VM: the same
/// blockdev-backup jobs and persistent bitmaps as a running VM, so one backup path serves both, and the bitmaps a
/// running QEMU left in the qcow2 files carry on. Quitting it cleanly stores the bitmaps back.
/// </summary>
public sealed class StorageDaemon : IAsyncDisposable
{
    private readonly string folder;
    private readonly int pid;
    private readonly ILogger logger;

    private StorageDaemon(string folder, int pid, QemuMonitor monitor, ILogger logger)
    {
        this.folder = folder;
        this.pid = pid;
        Monitor = monitor;
        this.logger = logger;
    }

    /// <summary>The daemon's monitor: disks are nodes named by their disk ids.</summary>
    public QemuMonitor Monitor { get; }

    /// <summary>Opens <paramref name="disks"/> (node name, qcow2 path) in a daemon whose socket lives in <paramref name="runFolder"/>.</summary>
    public static async Task<StorageDaemon> StartAsync(ProcessRunner runner, string runFolder, IReadOnlyList<(string Node, string Path)> disks, object target, ILogger logger, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(runFolder, "qsd-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var socket = Path.Combine(folder, "qmp.sock");
        var pidFile = Path.Combine(folder, "qsd.pid");
        var args = new List<string>();
        foreach (var (node, path) in disks)
        {
            args.Add("--blockdev");
            args.Add(new JsonObject { ["driver"] = "qcow2", ["node-name"] = node, ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = path } }.ToJsonString());
        }
        args.AddRange(["--chardev", $"socket,id=qmp0,path={socket},server=on,wait=off", "--monitor", "chardev=qmp0", "--pidfile", pidFile, "--daemonize"]);
        try
        {
            await runner.RunAsync("qemu-storage-daemon", args, new ProcessRunOptions { Target = target, Timeout = TimeSpan.FromSeconds(60) }, cancellationToken);
            var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            try { return new StorageDaemon(folder, pid, new QemuMonitor(await QmpClient.ConnectAsync(socket, QemuMonitor.CommandTimeout, target, cancellationToken)), logger); }
            catch
            {
                await Process.QemuProcess.KillAsync(pid, target, CancellationToken.None);
                throw;
            }
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>Quits cleanly (bitmaps are written back to the images), or kills the daemon when it does not go.</summary>
    public async ValueTask DisposeAsync()
    {
        try { await Monitor.QuitAsync(CancellationToken.None); }
        catch (VzException ex) { logger.LogWarning("qemu-storage-daemon did not take 'quit': {Error}", ex.Message); }
        await Monitor.DisposeAsync();
        if (!await Process.QemuProcess.WaitForExitAsync(pid, TimeSpan.FromSeconds(30), CancellationToken.None))
            await Process.QemuProcess.KillAsync(pid, "qemu-storage-daemon", CancellationToken.None);
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }
}
