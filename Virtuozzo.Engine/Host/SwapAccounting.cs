namespace Virtuozzo.Engine.Host;

/// <summary>
/// Whether the kernel accounts swap per cgroup, so a container's swap limit can be enforced: cgroup v1 has
/// memory.memsw.* files only with swap accounting (swapaccount=1), cgroup v2 has memory.swap.max in non-root groups
/// only with it. Read once per process: it changes only with a reboot.
/// </summary>
public static class SwapAccounting
{
    private static readonly Lazy<bool> enabled = new(Probe);

    public static bool IsEnabled => enabled.Value;

    private static bool Probe()
    {
        try
        {
            var memory = CgroupLayout.Read().Controllers.FirstOrDefault(c => c.Name == "memory");
            if (memory is null) return false;
            return memory.Version == 1
                ? File.Exists(Path.Combine(memory.MountPath, "memory.memsw.limit_in_bytes"))
                : Directory.EnumerateDirectories(memory.MountPath).Any(d => File.Exists(Path.Combine(d, "memory.swap.max")));
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
