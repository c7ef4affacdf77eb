using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Network.Adapters;

/// <summary>What Get-VzNetworkAdapter shows for one adapter of one VE (its first, eth0, included).</summary>
public sealed record NetworkAdapterInfo
{
    /// <summary>The VE (binds -VeName when piped on).</summary>
    public string VeName { get; init; } = "";
    public Guid VeId { get; init; }
    public VeType VeType { get; init; }

    /// <summary>The adapter's name: a container's interface name inside it, a VM's label (eth0 is the first adapter).</summary>
    public string Name { get; init; } = "";

    /// <summary>The virtual network it joins; null for a first adapter on a bridge no network owns, host-routed or user-mode.</summary>
    public string? Network { get; init; }

    /// <summary>The host bridge it joins; null when it joins none (host-routed, user-mode).</summary>
    public string? Bridge { get; init; }

    public string? MacAddress { get; init; }

    /// <summary>Containers: the addresses of the interface inside. VMs: none (see Get-VzVmGuestNetwork).</summary>
    public string[] IpAddress { get; init; } = [];

    /// <summary>Link state as the VE sees it: false is a pulled cable.</summary>
    public bool Connected { get; init; } = true;

    /// <summary>The VE's first adapter, set through New-/Set-VzVm and New-/Set-VzContainer.</summary>
    public bool Primary { get; init; }

    /// <summary>The host side: a VM's tap, a container's veth host end.</summary>
    public string? HostInterface { get; init; }

    /// <summary>A VM adapter's QEMU device id (nic0, nic1...); null for containers.</summary>
    public string? DeviceId { get; init; }

    /// <summary>Whether the host side exists now (the VE runs and the adapter is plumbed).</summary>
    public bool Active { get; init; }

    /// <summary>Bytes the VE received and sent on it since it was plumbed (the host side's counters, mirrored); null when not active.</summary>
    public long? ReceiveBytes { get; init; }
    public long? TransmitBytes { get; init; }

    public override string ToString() => $"{VeName}:{Name}";
}
