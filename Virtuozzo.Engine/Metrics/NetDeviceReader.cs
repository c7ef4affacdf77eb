namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// Traffic of a VE's host-side interface (a container's veth host end, a VM's tap) from
/// <c>/sys/class/net/&lt;if&gt;/statistics</c>. Those counters are the host end's: what the VE sends arrives there
/// as received, so they are mirrored to give the VE's view.
/// </summary>
public static class NetDeviceReader
{
    public const string SysClassNet = "/sys/class/net";

    /// <summary>The VE's view of the host end <paramref name="hostInterface"/>; null when the interface does not exist.</summary>
    public static NetCounters? Read(string hostInterface, string root = SysClassNet)
    {
        var dir = Path.Combine(root, hostInterface, "statistics");
        if (hostInterface.Contains('/') || !Directory.Exists(dir)) return null;
        long Stat(string name) => SmallFile.Long(SmallFile.Read(Path.Combine(dir, name)));
        return Mirror(Stat("rx_bytes"), Stat("tx_bytes"), Stat("rx_packets"), Stat("tx_packets"));
    }

    /// <summary>The host end's counters turned into the VE's: host rx is VE tx and the other way round.</summary>
    public static NetCounters Mirror(long hostRxBytes, long hostTxBytes, long hostRxPackets, long hostTxPackets) =>
        new(ReceiveBytes: hostTxBytes, TransmitBytes: hostRxBytes, ReceivePackets: hostTxPackets, TransmitPackets: hostRxPackets);
}
