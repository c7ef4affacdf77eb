namespace Virtuozzo.Engine.Qemu;

/// <summary>Formats Export-VzVm writes.</summary>
public enum VmExportFormat
{
    /// <summary>A libvirt domain XML (virsh define accepts it; it validates against libvirt's domain schema).</summary>
    LibvirtXml,
}
