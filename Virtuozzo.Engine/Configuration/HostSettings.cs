using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;
using YamlDotNet.Core;

namespace Virtuozzo.Engine.Configuration;

/// <summary>
/// Host-wide settings that <c>Set-VzHost</c> changes (data root, forced OCI runtime...). Stored as YAML in
/// <c>/etc/vz/virtuozzo.yaml</c>, or where <c>VZ_HOST_CONFIG</c> points (tests never touch /etc).
/// </summary>
public sealed class HostSettings
{
    public const string DefaultPath = "/etc/vz/virtuozzo.yaml";

    public string? DataRoot { get; set; }

    /// <summary>Force an OCI runtime by name (crun or runc); null lets the probe pick one that works.</summary>
    public string? ContainerRuntime { get; set; }

    /// <summary>The memory manager's autoballoon policy (Set-VzHost -AutoBalloon, -BalloonBufferPercent...); null is the defaults.</summary>
    public Memory.Balloon.BalloonPolicySettings? Balloon { get; set; }

    /// <summary>Set-VzKsm -Policy: Auto lets the host service run KSM by ksmtuned's rules (or the kernel's advisor).</summary>
    public Ksm.KsmPolicyMode? KsmPolicy { get; set; }

    /// <summary>The host service's Prometheus endpoint (Set-VzHost -MetricsEnabled, -MetricsAddress); null is off.</summary>
    public Metrics.MetricsSettings? Metrics { get; set; }

    public static string FilePath => Environment.GetEnvironmentVariable("VZ_HOST_CONFIG") is { Length: > 0 } p ? p : DefaultPath;

    public static HostSettings Load()
    {
        var path = FilePath;
        if (!File.Exists(path)) return new HostSettings();
        try
        {
            return Yaml.Deserializer.Deserialize<HostSettings>(File.ReadAllText(path)) ?? new HostSettings();
        }
        catch (YamlException ex)
        {
            throw new VzConfigCorruptException(path, ex.Start.Line, ex.InnerException?.Message ?? ex.Message, ex);
        }
    }

    /// <summary><see cref="Load"/>, or null when the file is corrupt (for readers that only show a value).</summary>
    public static HostSettings? TryLoad()
    {
        try { return Load(); }
        catch (VzConfigCorruptException) { return null; }
    }

    public void Save()
    {
        var path = FilePath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllText(path, Yaml.Serializer.Serialize(this), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }
}
