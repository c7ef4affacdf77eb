namespace Virtuozzo.Engine.Store;

/// <summary>
/// One network adapter of a VE beyond its first (Add-VzNetworkAdapter), stored in <c>ve.yaml</c>. The first adapter
/// keeps living in the old single-NIC fields (a container's <c>network</c>, a VM's <c>networkMode</c>/<c>bridge</c>/
/// <c>macAddress</c>), so files written before multi-NIC read the same and New-/Set-VzVm and -VzContainer keep working.
/// </summary>
public sealed class VeNetworkAdapter
{
    /// <summary>The adapter's name, unique per VE: a container's interface name inside it (eth1), a VM's label for it.</summary>
    public string Name { get; set; } = "";

    /// <summary>The virtual network (New-VzNetwork) it joins; its bridge is looked up at each plumbing.</summary>
    public string Network { get; set; } = "";

    /// <summary>Unicast, unique on the host; generated locally administered (02:1C:42:..) when not given.</summary>
    public string MacAddress { get; set; } = "";

    /// <summary>Containers: the addresses set on the interface inside, in CIDR form. VMs: none (the guest configures itself).</summary>
    public List<string>? IpAddresses { get; set; }

    /// <summary>Link state; null is connected (the default, left out of the file).</summary>
    public bool? Connected { get; set; }

    /// <summary>1-99, stable for the adapter's life: names its host interface, its QEMU device and its PCIe port.</summary>
    public int Slot { get; set; }

    /// <summary>
    /// The hotplug port (hp0...) a VM adapter was hot-added on, until the next cold start puts it on a port of its own;
    /// a restore from saved state and an incoming migration need QEMU's layout exactly as it was. Null otherwise.
    /// </summary>
    public string? HotplugPort { get; set; }
}
