namespace Virtuozzo.Engine.Configuration;

/// <summary>
/// Where things live on this host. Everything the engine writes is under <see cref="DataRoot"/> (persistent) or
/// <see cref="RunRoot"/> (runtime state that a reboot clears), and every cgroup under <see cref="CgroupParent"/>.
/// Tests give each run its own three, so runs never collide.
/// </summary>
public sealed record VzPaths(string DataRoot, string RunRoot, string CgroupParent)
{
    public const string DefaultDataRoot = "/vz";
    public const string DefaultRunRoot = "/run/vz";
    public const string DefaultCgroupParent = "vz";

    /// <summary>One folder per VE, named by UUID.</summary>
    public string PrivateRoot => Path.Combine(DataRoot, "private");

    /// <summary>Cached OS template trees.</summary>
    public string TemplateRoot => Path.Combine(DataRoot, "template");

    /// <summary>Held while name uniqueness is decided (create, rename).</summary>
    public string RegistryLockPath => Path.Combine(DataRoot, ".registry.lock");

    public string VeDirectory(Guid id) => Path.Combine(PrivateRoot, id.ToString("D"));
    public string VeConfigPath(Guid id) => Path.Combine(VeDirectory(id), "ve.yaml");
    public string VeRunDirectory(Guid id) => Path.Combine(RunRoot, id.ToString("N")[..12]);

    /// <summary>
    /// Resolves the paths: explicit values first, then <c>VZ_ROOT</c>/<c>VZ_RUN_ROOT</c>/<c>VZ_CGROUP_PARENT</c>,
    /// then the host settings file, then the defaults.
    /// </summary>
    public static VzPaths Resolve(HostSettings? settings = null)
    {
        settings ??= HostSettings.Load();
        var data = Env("VZ_ROOT") ?? settings.DataRoot ?? DefaultDataRoot;
        var run = Env("VZ_RUN_ROOT") ?? DefaultRunRoot;
        var cgroup = Env("VZ_CGROUP_PARENT") ?? DefaultCgroupParent;
        return new VzPaths(Path.GetFullPath(data), Path.GetFullPath(run), cgroup.Trim('/'));
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
