using Virtuozzo.Engine.Cgroups;
using Virtuozzo.Engine.Concurrency;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Containers.Cgroup;

/// <summary>
/// Where a container sits in the cgroup tree and the limits its group carries. The runtime creates the group from
/// the bundle; the engine's writes are authoritative afterwards (both runtimes then agree, e.g. on cpu.shares
/// rounding), and live changes are written here.
/// </summary>
public sealed class ContainerCgroup(VzPaths paths, Func<ICgroupBackend> backend)
{
    private readonly Lazy<ICgroupBackend> cgroups = new(backend);

    /// <summary>The host's cgroup backend (v1 or v2).</summary>
    public ICgroupBackend Backend => cgroups.Value;

    /// <summary>The cgroup path of a container, relative to each hierarchy's root.</summary>
    public string PathOf(Guid id) => $"{paths.CgroupParent}/ct-{id:N}";

    public bool Exists(Guid id) => Backend.Exists(PathOf(id));

    public CgroupStats ReadStats(Guid id) => Backend.ReadStats(PathOf(id));

    public bool IsFrozen(Guid id) => ReadStats(id).Frozen;

    public void SetFrozen(Guid id, bool frozen, TimeSpan timeout) => Backend.SetFrozen(PathOf(id), frozen, timeout);

    /// <summary>Throws, naming it, when the host does not give the container's group a controller its limits need (cgroup v2 delegation).</summary>
    public void CheckControllers(Guid id, VeConfig cfg, int hostCpuCount) => Backend.CheckControllers(PathOf(id), ContainerConfigurator.ToLimits(cfg, hostCpuCount));

    /// <summary>Writes the limits of <paramref name="cfg"/> to the container's group.</summary>
    public void Apply(Guid id, VeConfig cfg, int hostCpuCount) => Backend.Apply(PathOf(id), ContainerConfigurator.ToLimits(cfg, hostCpuCount));

    /// <summary>Changes a running container's limits; on failure the old values are put back (best effort) and the error stands.</summary>
    public void Change(Guid id, VeConfig before, VeConfig after, int hostCpuCount)
    {
        try { Apply(id, after, hostCpuCount); }
        catch
        {
            try { Apply(id, before, hostCpuCount); } catch (VzException) { } // best effort: put the old values back
            throw;
        }
    }

    /// <summary>
    /// Deletes the group of a stopped container. The init's zombie is reaped by the host's PID 1, sometimes a second
    /// or two late; until then rmdir says busy, so this retries for up to 15 s.
    /// </summary>
    public async Task DeleteAsync(Guid id, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try { Backend.Delete(PathOf(id), paths.CgroupParent); return; }
            catch (VzInvalidStateException) when (DateTime.UtcNow < deadline)
            {
                await WorkThrottle.IdleAsync(async () => { await Task.Delay(100, ct); return true; }); // waiting on the host's PID 1 costs nothing
            }
        }
    }
}
