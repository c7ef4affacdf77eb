using System.Text.Json;
using Virtuozzo.Engine.Qcow2;

namespace Virtuozzo.Engine.Disks.Formats;

/// <summary>
/// What <c>qemu-img info --output=json</c> says about one image in a format the engine does not read natively.
/// Parsed with limits: the text is bounded before parsing and the JSON depth is capped, so a hostile backing
/// chain cannot make the parse itself expensive.
/// </summary>
public sealed record QemuImageInfo
{
    /// <summary>Longest output accepted (one image, no chain).</summary>
    public const int MaxJsonChars = 1024 * 1024;

    public required string Format { get; init; }
    public long VirtualSize { get; init; }
    public long ActualSize { get; init; }
    public long? ClusterSize { get; init; }
    public string? BackingFile { get; init; }
    public string? FullBackingFile { get; init; }
    public string? BackingFormat { get; init; }
    public bool IsDirty { get; init; }
    public bool IsCorrupt { get; init; }
    public bool Encrypted { get; init; }

    /// <summary>Parses one info object; a malformed or oversized text is a <see cref="VzDiskCorruptException"/>.</summary>
    public static QemuImageInfo Parse(string json, string path)
    {
        if (json.Length > MaxJsonChars) throw new VzDiskCorruptException(path, $"qemu-img describes it in more than {MaxJsonChars} characters", "disk");
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new VzDiskCorruptException(path, "qemu-img info returned no object", "disk");
            var specific = root.TryGetProperty("format-specific", out var fs) && fs.ValueKind == JsonValueKind.Object
                && fs.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
            return new QemuImageInfo
            {
                Format = String(root, "format") ?? throw new VzDiskCorruptException(path, "qemu-img info named no format", "disk"),
                VirtualSize = Long(root, "virtual-size") ?? 0,
                ActualSize = Long(root, "actual-size") ?? 0,
                ClusterSize = Long(root, "cluster-size"),
                BackingFile = String(root, "backing-filename"),
                FullBackingFile = String(root, "full-backing-filename"),
                BackingFormat = String(root, "backing-filename-format"),
                IsDirty = Bool(root, "dirty-flag"),
                IsCorrupt = specific.ValueKind == JsonValueKind.Object && Bool(specific, "corrupt"),
                Encrypted = Bool(root, "encrypted"),
            };
        }
        catch (JsonException ex) { throw new VzDiskCorruptException(path, $"qemu-img info output is not valid JSON ({ex.Message})", "disk"); }
    }

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long? Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;

    private static bool Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
}
