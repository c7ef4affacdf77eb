namespace Virtuozzo.Engine.Network.Adapters;

/// <summary>
/// Names of what an added adapter (slot 1-99) owns on the host and in QEMU. Host interfaces are 3 letters + 10 hex
/// digits of the VE id + the slot in two digits: 15 characters, the kernel's limit. The letters differ from the
/// first NIC's ("vz" + 11 hex, "vzt" + 12 hex) by a non-hex third letter, so no two of them can ever be equal.
/// </summary>
public static class AdapterNames
{
    public const int MaxSlot = 99;

    /// <summary>A VM adapter's tap device.</summary>
    public static string Tap(Guid id, int slot) => Name("vzx", id, slot);

    /// <summary>The host end of a container adapter's veth pair.</summary>
    public static string VethHost(Guid id, int slot) => Name("vzy", id, slot);

    /// <summary>The container end of the pair until it is moved into the container and renamed.</summary>
    public static string VethPeer(Guid id, int slot) => Name("vzq", id, slot);

    /// <summary>The QEMU netdev id (the first NIC's is net0).</summary>
    public static string Netdev(int slot) => $"net{slot}";

    /// <summary>The QEMU virtio-net device id (the first NIC's is nic0).</summary>
    public static string Device(int slot) => $"nic{slot}";

    /// <summary>The PCIe root port a q35 VM's cold-plugged adapter sits behind, so it can be unplugged while the VM runs.</summary>
    public static string Port(int slot) => $"np{slot}";

    private static string Name(string prefix, Guid id, int slot) => $"{prefix}{id.ToString("N")[..10]}{slot:d2}";
}
