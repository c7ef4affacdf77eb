namespace Virtuozzo.Engine.Metrics;

/// <summary>Block I/O since a VE started: bytes and operations, read and written.</summary>
public sealed record IoCounters(long ReadBytes, long WriteBytes, long ReadOps, long WriteOps)
{
    public static readonly IoCounters Zero = new(0, 0, 0, 0);

    public IoCounters Add(IoCounters other) =>
        new(ReadBytes + other.ReadBytes, WriteBytes + other.WriteBytes, ReadOps + other.ReadOps, WriteOps + other.WriteOps);
}

/// <summary>Network traffic since a VE's interface came up, seen from inside the VE (received = sent to it).</summary>
public sealed record NetCounters(long ReceiveBytes, long TransmitBytes, long ReceivePackets, long TransmitPackets)
{
    public static readonly NetCounters Zero = new(0, 0, 0, 0);

    public NetCounters Add(NetCounters other) =>
        new(ReceiveBytes + other.ReceiveBytes, TransmitBytes + other.TransmitBytes, ReceivePackets + other.ReceivePackets, TransmitPackets + other.TransmitPackets);
}

/// <summary>The traffic of one adapter of a VE (eth0 or an added one) by the adapter's name.</summary>
public sealed record AdapterTraffic(string Adapter, NetCounters Counters);
