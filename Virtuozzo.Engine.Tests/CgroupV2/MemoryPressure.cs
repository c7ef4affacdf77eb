using System.Diagnostics;

namespace Virtuozzo.Engine.Tests.CgroupV2;

/// <summary>
/// Pushes the v2 test host into global reclaim from outside the VE tree: a process in its own group
/// (<c>vzt-hog</c>, a sibling of the `vz` parent) writes a tmpfs file larger than the memory left, so the kernel has
/// to swap anonymous and shmem pages out, from every group that is not protected.
/// </summary>
internal sealed class MemoryPressure : IDisposable
{
    private readonly string mount;
    private readonly string group;
    private const string HogDir = "/run/vzt-hog";

    public MemoryPressure(string cgroupMount)
    {
        mount = cgroupMount;
        group = Path.Combine(mount, "vzt-hog");
    }

    /// <summary>Writes MemAvailable + <paramref name="overshootMiB"/> MiB into tmpfs from the hog group; returns the MiB written.</summary>
    public long Apply(long overshootMiB)
    {
        Directory.CreateDirectory(group);
        Directory.CreateDirectory(HogDir);
        var size = AvailableMiB() + overshootMiB;
        Run($"mount -t tmpfs -o size={size + 64}m tmpfs {HogDir}");
        Run($"echo $$ > {group}/cgroup.procs && exec dd if=/dev/zero of={HogDir}/hog bs=1M count={size} 2>/dev/null");
        return size;
    }

    public static long AvailableMiB() =>
        long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemAvailable:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;

    public static long SwappedOutPages() =>
        long.Parse(File.ReadLines("/proc/vmstat").First(l => l.StartsWith("pswpout ")).Split(' ')[1]);

    public void Dispose()
    {
        if (File.Exists("/proc/mounts") && File.ReadAllText("/proc/mounts").Contains($" {HogDir} ")) Run($"umount {HogDir}");
        if (Directory.Exists(HogDir)) Directory.Delete(HogDir);
        // The hog's swapped-out pages are freed with the tmpfs; its group empties when dd has exited.
        for (var i = 0; i < 100 && Directory.Exists(group); i++)
        {
            try { Directory.Delete(group); }
            catch (IOException) { Thread.Sleep(100); }
        }
    }

    private static void Run(string command)
    {
        using var p = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", command]) { RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(8))) { p.Kill(true); throw new TimeoutException(command); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"'{command}' exited with {p.ExitCode}: {err.Result}");
    }
}
