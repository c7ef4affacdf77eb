namespace Virtuozzo.Engine.Containers;

/// <summary>Container-only settings in <c>ve.yaml</c>.</summary>
public sealed class ContainerSettings
{
    /// <summary>The OS template the private area was made from (for example <c>busybox</c>).</summary>
    public string Template { get; set; } = "";

    public string? Hostname { get; set; }
}
