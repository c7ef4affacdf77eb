using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Containers.Runtime;

/// <summary>
/// A container's OCI bundle: its VE folder with <c>config.json</c> (from <see cref="OciBundle"/>) beside the root
/// tree. The config is regenerated from ve.yaml at every start, so it needs no fsync: ve.yaml is the durable truth.
/// </summary>
public static class OciBundleWriter
{
    public const string ConfigFileName = "config.json";

    /// <summary>
    /// What the OCI config depends on, from the container's config and the host. Pure. <paramref name="idMappedMounts"/>:
    /// whether kernel and runtime make idmapped mounts (<see cref="IdMappedMounts"/>), asked only when shares exist.
    /// </summary>
    public static OciBundleInput InputFor(VeConfig cfg, string rootPath, string cgroupPath, int hostCpuCount, bool idMappedMounts = false)
    {
        var ct = cfg.Container ?? throw new ArgumentException("Not a container config.", nameof(cfg));
        return new OciBundleInput
        {
            RootPath = rootPath,
            Hostname = ct.Hostname ?? cfg.Name,
            InitArgs = [ct.Init],
            UidBase = ct.UidBase,
            UidCount = ct.UidCount,
            CgroupsPath = "/" + cgroupPath,
            Limits = ContainerConfigurator.ToLimits(cfg, hostCpuCount),
            // The host's architecture decides which syscall tables the filter covers; a custom profile file is read here.
            Seccomp = SeccompProfile.Resolve(ct.SeccompProfile, System.Runtime.InteropServices.RuntimeInformation.OSArchitecture, cfg.Name),
            BindMounts = [.. (cfg.SharedFolders ?? []).Select(s => new OciBindMount(s.Path, s.GuestPath ?? SharedFolders.SharedFolderRules.DefaultGuestPath(s.Name), s.ReadOnly, idMappedMounts))],
        };
    }

    public static void Write(string bundleDirectory, OciBundleInput input) =>
        File.WriteAllText(Path.Combine(bundleDirectory, ConfigFileName), OciBundle.ToJson(input));
}
