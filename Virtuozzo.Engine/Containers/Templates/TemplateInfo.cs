namespace Virtuozzo.Engine.Containers.Templates;

/// <summary>A cached OS template: a root tree under <see cref="Configuration.VzPaths.TemplateRoot"/> and what it needs to boot.</summary>
public sealed class TemplateInfo
{
    public string Name { get; set; } = "";

    /// <summary>How the tree was made (Busybox, Debian).</summary>
    public TemplateKind Kind { get; set; }

    public string? Description { get; set; }

    /// <summary>The init the container runs as PID 1.</summary>
    public string Init { get; set; } = "/sbin/init";

    /// <summary>The signal that shuts the init down cleanly.</summary>
    public string StopSignal { get; set; } = "SIGUSR2";

    /// <summary>Bytes of file content in the tree when it was built.</summary>
    public long SizeBytes { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The template's folder (filled in when read; not stored).</summary>
    [YamlDotNet.Serialization.YamlIgnore]
    public string Path { get; set; } = "";

    /// <summary>The root tree inside <see cref="Path"/>.</summary>
    [YamlDotNet.Serialization.YamlIgnore]
    public string RootPath => System.IO.Path.Combine(Path, "root");
}
