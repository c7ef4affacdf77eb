namespace Virtuozzo.Engine.Containers.Templates;

/// <summary>How a template is built.</summary>
public enum TemplateKind
{
    /// <summary>From the host's static busybox (Debian busybox-static); no network needed.</summary>
    Busybox,

    /// <summary>Debian 12 minbase from the host's configured mirror with debootstrap, plus sysvinit.</summary>
    Debian,
}
