using System.Text.Json;
using Virtuozzo.Engine.Qcow2;

namespace Virtuozzo.Engine.Disks;

/// <summary>One partition as <c>sfdisk -J</c> reports it; Start and Size in sectors.</summary>
public sealed record PartitionEntry(int Number, long Start, long Size, string Type);

/// <summary>
/// The partition table of a disk image, parsed from <c>sfdisk -J</c> output (untrusted: it describes a guest's
/// disk). Sizes are bounded; anything unexpected is a typed error.
/// </summary>
public sealed record PartitionTable(string Label, int SectorSize, IReadOnlyList<PartitionEntry> Partitions)
{
    private const int MaxPartitions = 256;

    public static PartitionTable Parse(string json, string device, string imagePath)
    {
        if (json.Length > 1 << 20) throw new VzDiskCorruptException(imagePath, "the partition table listing is larger than 1 MiB");
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
            var table = doc.RootElement.GetProperty("partitiontable");
            var label = table.GetProperty("label").GetString() ?? "";
            var sectorSize = table.TryGetProperty("sectorsize", out var ss) ? ss.GetInt32() : 512;
            if (sectorSize is not (512 or 4096)) throw new VzDiskCorruptException(imagePath, $"sector size {sectorSize}");
            var list = new List<PartitionEntry>();
            if (table.TryGetProperty("partitions", out var parts))
            {
                foreach (var p in parts.EnumerateArray())
                {
                    if (list.Count == MaxPartitions) throw new VzDiskCorruptException(imagePath, $"more than {MaxPartitions} partitions");
                    var node = p.GetProperty("node").GetString() ?? "";
                    list.Add(new PartitionEntry(NumberOf(node, device), p.GetProperty("start").GetInt64(), p.GetProperty("size").GetInt64(),
                        p.TryGetProperty("type", out var t) ? t.GetString() ?? "" : ""));
                }
            }
            if (list.Any(p => p.Start < 0 || p.Size <= 0 || p.Number <= 0)) throw new VzDiskCorruptException(imagePath, "a partition has a negative start or size");
            return new PartitionTable(label, sectorSize, list);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new VzDiskCorruptException(imagePath, $"the partition table cannot be read: {ex.Message}");
        }
    }

    /// <summary>sfdisk names partitions device + number, with a 'p' between when the device name ends in a digit.</summary>
    private static int NumberOf(string node, string device)
    {
        var rest = node.StartsWith(device, StringComparison.Ordinal) ? node[device.Length..] : node;
        rest = rest.TrimStart('p');
        return int.TryParse(rest, out var n) ? n : -1;
    }
}
