namespace Virtuozzo.Engine.Qemu;

/// <summary>VM-only settings in <c>ve.yaml</c>.</summary>
public sealed class VmSettings
{
    public string Machine { get; set; } = "q35";
}
