using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Disks;

/// <summary>
/// A closed qcow2 image exported as a raw file through qemu-storage-daemon's FUSE export (this host has no nbd), so
/// sfdisk, losetup and the file-system tools can reach the guest's disk. With discard, a hole punched in the raw file
/// (a loop device's discard, an fstrim through it) frees the qcow2 clusters behind it. Disposing stops the daemon
/// and unmounts the export, also after a failure; the daemon's lock on the image keeps QEMU off it meanwhile.
/// </summary>
internal sealed class ImageExport : IAsyncDisposable
{
    private readonly ProcessRunner runner;
    private readonly ILogger logger;
    private int? daemon;

    /// <summary>The raw view of the image (the image itself when it is already raw).</summary>
    public string Device { get; }

    private ImageExport(ProcessRunner runner, ILogger logger, string device)
    {
        this.runner = runner;
        this.logger = logger;
        Device = device;
    }

    /// <summary>Exports <paramref name="image"/> under <paramref name="work"/>; a raw image is used as it is.</summary>
    public static async Task<ImageExport> StartAsync(ProcessRunner runner, ILogger logger, string image, string format, string work,
        bool discard, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (format != "qcow2") return new ImageExport(runner, logger, image);
        var raw = Path.Combine(work, "export.raw");
        File.WriteAllBytes(raw, []); // the FUSE export mounts over an existing regular file
        var export = new ImageExport(runner, logger, raw);
        var pidFile = Path.Combine(work, "qsd.pid");
        var unmap = discard ? ",discard=unmap" : "";
        try
        {
            await runner.RunAsync("qemu-storage-daemon", [
                "--daemonize", "--pidfile", pidFile,
                "--blockdev", $"driver=file,filename={QemuEscape(image)},node-name=file{unmap}",
                "--blockdev", $"driver=qcow2,file=file,node-name=disk{unmap}",
                "--export", $"type=fuse,id=exp0,node-name=disk,mountpoint={QemuEscape(raw)},writable=on",
            ], new ProcessRunOptions { Timeout = timeout, Target = image }, cancellationToken);
            export.daemon = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch
        {
            await export.DisposeAsync();
            throw;
        }
        return export;
    }

    public async ValueTask DisposeAsync()
    {
        if (daemon is { } pid)
        {
            Native.LibC.kill(pid, 15);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (ProcStat.Read(pid) is { IsAlive: true } && DateTime.UtcNow < deadline) await Task.Delay(50, CancellationToken.None);
            if (ProcStat.Read(pid) is { IsAlive: true }) { Native.LibC.kill(pid, 9); logger.LogWarning("qemu-storage-daemon {Pid} did not stop; killed", pid); }
            // The daemon was reparented to PID 1, which here reaps late: wait (bounded) for the zombie to go too,
            // so nothing of this operation is visible once it returns.
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (ProcStat.Read(pid) is not null && DateTime.UtcNow < deadline) await Task.Delay(50, CancellationToken.None);
            daemon = null;
        }
        if (Device.EndsWith("/export.raw", StringComparison.Ordinal) && MountInfo.IsMountPoint(Device))
        {
            try { await runner.RunAsync("umount", ["-l", Device], new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(30) }, CancellationToken.None); }
            catch (VzException ex) { logger.LogWarning("cleanup umount {Device} failed: {Message}", Device, ex.Message); }
        }
    }

    /// <summary>QEMU option values escape a comma by doubling it.</summary>
    private static string QemuEscape(string value) => value.Replace(",", ",,");
}
