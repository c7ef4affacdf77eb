using Virtuozzo.Engine.Host;

namespace Virtuozzo.Engine.Cgroups;

/// <summary>
/// One cgroup version's way of doing the few things the engine needs: make a group, put limits and processes in it,
/// read its usage, freeze it, delete it. Groups are named by a relative path (for example
/// <c>vz/0f3c...</c>, usually under <see cref="Configuration.VzPaths.CgroupParent"/>), the same in every
/// hierarchy, so containers and QEMU processes share one backend.
/// </summary>
public interface ICgroupBackend
{
    /// <summary>Which version this backend drives.</summary>
    CgroupMode Mode { get; }

    /// <summary>Makes the group (and its parents) in every hierarchy this backend uses; fine if it already exists.</summary>
    void Create(string path);

    /// <summary>True when the group exists (in the memory hierarchy, which every backend uses).</summary>
    bool Exists(string path);

    /// <summary>
    /// Checks, before anything is started, that the host lets this group have the controllers
    /// <paramref name="limits"/> need; throws <see cref="Errors.VzCapabilityMissingException"/> naming a missing one.
    /// v1 hierarchies are either mounted or not (the backend is only made when memory is), so the default checks nothing.
    /// </summary>
    void CheckControllers(string path, CgroupLimits limits) { }

    /// <summary>Writes the limits that are set (non-null) and leaves the others alone. Works on a live group.</summary>
    void Apply(string path, CgroupLimits limits);

    /// <summary>Moves a process into the group in every hierarchy.</summary>
    void AddProcess(string path, int pid);

    /// <summary>The pids in the group (not its children).</summary>
    IReadOnlyList<int> ListProcesses(string path);

    /// <summary>Freezes or thaws every process in the group; returns once the kernel reports the new state.</summary>
    void SetFrozen(string path, bool frozen, TimeSpan timeout);

    /// <summary>Usage counters; zeros for a group that does not exist.</summary>
    CgroupStats ReadStats(string path);

    /// <summary>
    /// Removes the group and its child groups in every hierarchy (the group must hold no live process), then the
    /// parents that are left empty, up to <paramref name="pruneUpTo"/> (inclusive; null prunes nothing).
    /// </summary>
    void Delete(string path, string? pruneUpTo = null);

    /// <summary>The host folder of the group in the hierarchy holding <paramref name="controller"/> (for tests and diagnostics).</summary>
    string? HostPath(string controller, string path);
}
