using System.Text;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Qemu.Process;

/// <summary>
/// Where a VM's runtime files live: pid file and the QMP and QGA sockets under the VE's run folder (cleared by a
/// reboot), the serial log and the EFI variable store in the VE folder (kept).
/// </summary>
public sealed record VmRuntimePaths(string RunDirectory, string VeDirectory)
{
    /// <summary>sun_path holds 108 bytes including the terminating NUL.</summary>
    public const int MaxSocketPathBytes = 107;

    public string PidFile => Path.Combine(RunDirectory, "qemu.pid");
    /// <summary>The QEMU process's start time (clock ticks since boot), to tell our QEMU from a recycled pid.</summary>
    public string StartTimeFile => Path.Combine(RunDirectory, "qemu.start");
    public string QmpSocket => Path.Combine(RunDirectory, "qmp.sock");
    /// <summary>
    /// A second QMP monitor, for the host service alone: it keeps its connection open between passes (QEMU serves
    /// one client per monitor, so holding the first would lock the cmdlets out).
    /// </summary>
    public string ServiceQmpSocket => Path.Combine(RunDirectory, "qmp-service.sock");
    public string QgaSocket => Path.Combine(RunDirectory, "qga.sock");
    /// <summary>Serializes QMP clients across processes: QEMU serves one at a time and a second one hangs.</summary>
    public string QmpLock => Path.Combine(RunDirectory, "qmp.lock");
    public string QgaLock => Path.Combine(RunDirectory, "qga.lock");
    /// <summary>The guest's first serial port (ttyS0) as a socket: Enter-VzVm attaches to it.</summary>
    public string ConsoleSocket => Path.Combine(RunDirectory, "console.sock");
    /// <summary>Held while a client is attached to the console: one at a time.</summary>
    public string ConsoleLock => Path.Combine(RunDirectory, "console.lock");
    /// <summary>Present while the vCPUs are paused by Suspend-VzVm (so listing needs no QMP round trip).</summary>
    public string PausedMarker => Path.Combine(RunDirectory, "paused");
    /// <summary>Present while the VM moves to another host: the memory manager leaves its balloon alone meanwhile.</summary>
    public string MigratingMarker => Path.Combine(RunDirectory, "migrating");
    /// <summary>Present while a stop was asked for, so an exit is not reported as a crash.</summary>
    public string StoppingMarker => Path.Combine(RunDirectory, "stopping");
    public string SerialLog => Path.Combine(VeDirectory, "console.log");
    public string EfiVars => Path.Combine(VeDirectory, "efivars.fd");
    /// <summary>The guest's memory and device state written by Suspend-VzVm -SaveState; loaded and deleted by the next start.</summary>
    public string SavedState => Path.Combine(VeDirectory, "memory.sav");

    /// <summary>The vhost-user socket virtiofsd serves the shared folder <paramref name="tag"/> on.</summary>
    public string VirtioFsSocket(string tag) => Path.Combine(RunDirectory, $"vfs-{tag}.sock");
    /// <summary>The pid and start time of a share's virtiofsd, to tell it from a recycled pid.</summary>
    public string VirtioFsPidFile(string tag) => Path.Combine(RunDirectory, $"vfs-{tag}.pid");
    /// <summary>The shares QEMU was started with (name and transport), for listing and the migration and hotplug gates.</summary>
    public string SharesFile => Path.Combine(RunDirectory, "shares.json");
    /// <summary>A share's virtiofsd log, kept in the VE folder for after the VM stopped.</summary>
    public string VirtioFsLog(string tag) => Path.Combine(VeDirectory, $"virtiofsd-{tag}.log");

    public static VmRuntimePaths For(VzPaths paths, Guid id) => new(paths.VeRunDirectory(id), paths.VeDirectory(id));

    /// <summary>Refuses shares whose virtiofsd socket path would not fit in sun_path (a deep run folder).</summary>
    public void ValidateShareSockets(IEnumerable<CommandLine.VmShareDevice> shares)
    {
        foreach (var share in shares.Where(s => s.Transport == SharedFolders.SharedFolderTransport.VirtioFs))
            if (Encoding.UTF8.GetByteCount(share.SocketPath) > MaxSocketPathBytes)
                throw new VzInvalidArgumentException("VzRunRootTooLong",
                    $"The virtio-fs socket path '{share.SocketPath}' is longer than {MaxSocketPathBytes} bytes, the limit of a unix socket address.", share.SocketPath, "RunRoot")
                { RecommendedAction = "Use a shorter run folder (VZ_RUN_ROOT, default /run/vz) or a shorter share name." };
    }

    /// <summary>Refuses a run folder so deep that the socket paths would not fit in sun_path.</summary>
    public void ValidateSocketPaths()
    {
        foreach (var socket in new[] { QmpSocket, ServiceQmpSocket, QgaSocket, ConsoleSocket })
            if (Encoding.UTF8.GetByteCount(socket) > MaxSocketPathBytes)
                throw new VzInvalidArgumentException("VzRunRootTooLong",
                    $"The socket path '{socket}' is longer than {MaxSocketPathBytes} bytes, the limit of a unix socket address.", socket, "RunRoot")
                { RecommendedAction = "Use a shorter run folder (VZ_RUN_ROOT, default /run/vz)." };
    }
}
