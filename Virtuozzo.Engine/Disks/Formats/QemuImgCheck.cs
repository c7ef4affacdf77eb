using System.Text.Json;
using Virtuozzo.Engine.Qcow2;

namespace Virtuozzo.Engine.Disks.Formats;

/// <summary>Reads <c>qemu-img check --output=json</c> into a <see cref="DiskCheckResult"/>, with the same limits as info.</summary>
public static class QemuImgCheck
{
    public static DiskCheckResult Parse(string json, int exitCode, string path, string format)
    {
        if (json.Length > QemuImageInfo.MaxJsonChars) throw new VzDiskCorruptException(path, "qemu-img check output is too long", format);
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            var r = doc.RootElement;
            long N(string name) => r.ValueKind == JsonValueKind.Object && r.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : 0;
            var messages = new List<string>();
            // Exit code 2: corruptions qemu-img found but could not count (its JSON then lacks the numbers).
            if (exitCode == 2 && N("corruptions") == 0) messages.Add("qemu-img check found the image corrupt.");
            return new DiskCheckResult
            {
                Path = path, Format = format,
                Corruptions = Math.Max(N("corruptions"), exitCode == 2 ? 1 : 0), Leaks = N("leaks"), CheckErrors = N("check-errors"),
                LeaksFixed = N("leaks-fixed"), TotalClusters = N("total-clusters"), AllocatedClusters = N("allocated-clusters"),
                FragmentedClusters = N("fragmented-clusters"), CompressedClusters = N("compressed-clusters"), ImageEndOffset = N("image-end-offset"),
                Messages = messages,
            };
        }
        catch (JsonException ex) { throw new VzDiskCorruptException(path, $"qemu-img check output is not valid JSON ({ex.Message})", format); }
    }
}
