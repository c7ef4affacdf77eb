namespace Virtuozzo.Engine.Store;

/// <summary>How a VM's NIC is connected.</summary>
public enum VmNetworkMode
{
    /// <summary>No NIC.</summary>
    None,
    /// <summary>QEMU user-mode networking, restricted to the guest and the host's slirp (no outside traffic).</summary>
    User,
    /// <summary>A tap device in a host bridge.</summary>
    Bridge,
}
