using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Qcow2;
using Xunit;

namespace Virtuozzo.Engine.Tests.Disks;

public sealed class PartitionTableTests
{
    [Fact]
    public void ReadsSfdiskJson()
    {
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "Disks", "sfdisk-gpt.json"));
        var table = PartitionTable.Parse(json, "/run/vz/disk-resize/abc/export.raw", "disk.qcow2");
        Assert.Equal("gpt", table.Label);
        Assert.Equal(512, table.SectorSize);
        Assert.Equal([1, 2], table.Partitions.Select(p => p.Number));
        Assert.Equal(206848, table.Partitions.MaxBy(p => p.Start)!.Start);
    }

    [Fact]
    public void DeviceNamesEndingInADigitUseTheP()
    {
        const string json = """{"partitiontable":{"label":"dos","device":"/dev/loop7","unit":"sectors","sectorsize":512,"partitions":[{"node":"/dev/loop7p3","start":2048,"size":100,"type":"83"}]}}""";
        Assert.Equal(3, PartitionTable.Parse(json, "/dev/loop7", "d").Partitions[0].Number);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"partitiontable":{"label":"gpt","sectorsize":1000}}""")]
    [InlineData("""{"partitiontable":{"label":"gpt","partitions":[{"node":"x1","start":-5,"size":10}]}}""")]
    [InlineData("""{"other":1}""")]
    public void GarbageIsATypedError(string json) => Assert.Throws<VzDiskCorruptException>(() => PartitionTable.Parse(json, "x", "d"));
}
