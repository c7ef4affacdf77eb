using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Host;
using Virtuozzo.Engine.Processes;

namespace Virtuozzo.Engine.Containers.Runtime;

/// <summary>The OCI runtimes the engine can drive (crun, runc): which one new starts use, and an adapter for each.</summary>
public sealed class OciRuntimes(VzPaths paths, ProcessRunner runner)
{
    /// <summary>The id the OCI runtime knows a container by.</summary>
    public static string RuntimeId(Guid id) => $"vz-{id:N}";

    private string StateRoot(string runtime) => Path.Combine(paths.RunRoot, "oci", runtime);

    /// <summary>
    /// The runtime new starts use: the one forced with Set-VzHost; else the first the host probe saw run a trial
    /// container (from its cache file; a start never runs the probe itself); else crun, else runc, as installed.
    /// </summary>
    public string SelectName()
    {
        var forced = HostSettings.Load().ContainerRuntime;
        if (forced is { Length: > 0 } && !string.Equals(forced, "Auto", StringComparison.OrdinalIgnoreCase)) return forced;
        if (ProbedRuntime() is { } probed) return probed;
        foreach (var name in new[] { "crun", "runc" }) if (ToolLocator.Find(name) is not null) return name;
        throw new VzCapabilityMissingException("VzNoContainerRuntime", "Neither crun nor runc is installed.", "runtime", "crun")
        { RecommendedAction = "Install crun or runc (./build.ps1 -Task Bootstrap)." };
    }

    private string? ProbedRuntime()
    {
        var file = Path.Combine(paths.RunRoot, "host-capabilities.json");
        try
        {
            if (!File.Exists(file) || new FileInfo(file).Length > 1 << 20) return null;
            var caps = System.Text.Json.JsonSerializer.Deserialize<HostCapabilities>(File.ReadAllText(file));
            if (caps is null || DateTimeOffset.UtcNow - caps.ProbedAt > HostProbe.CapabilityMaxAge) return null;
            return caps.ContainerRuntimes.FirstOrDefault(r => r.CanRun == true && r.Name is "crun" or "runc")?.Name;
        }
        catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException) { return null; }
    }

    /// <summary>The adapter for <paramref name="name"/>, set up for this host's cgroup layout.</summary>
    public OciRuntime Get(string name)
    {
        if (name is not ("crun" or "runc"))
            throw new VzInvalidArgumentException("VzUnknownRuntime", $"'{name}' is not a supported OCI runtime.", name, "ContainerRuntime")
            { RecommendedAction = "Use crun or runc." };
        var (mode, _, unified) = CgroupLayout.Read();
        return new OciRuntime(name, runner, StateRoot(name), mode == CgroupMode.Hybrid ? unified : null);
    }
}
