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
    public string QgaSocket => Path.Combine(RunDirectory, "qga.sock");
    /// <summary>Serializes QMP clients across processes: QEMU serves one at a time and a second one hangs.</summary>
    public string QmpLock => Path.Combine(RunDirectory, "qmp.lock");
    public string QgaLock => Path.Combine(RunDirectory, "qga.lock");
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

    public static VmRuntimePaths For(VzPaths paths, Guid id) => new(paths.VeRunDirectory(id), paths.VeDirectory(id));

    /// <summary>Refuses a run folder so deep that the socket paths would not fit in sun_path.</summary>
    public void ValidateSocketPaths()
    {
        foreach (var socket in new[] { QmpSocket, QgaSocket })
            if (Encoding.UTF8.GetByteCount(socket) > MaxSocketPathBytes)
                throw new VzInvalidArgumentException("VzRunRootTooLong",
                    $"The socket path '{socket}' is longer than {MaxSocketPathBytes} bytes, the limit of a unix socket address.", socket, "RunRoot")
                { RecommendedAction = "Use a shorter run folder (VZ_RUN_ROOT, default /run/vz)." };
    }
}
