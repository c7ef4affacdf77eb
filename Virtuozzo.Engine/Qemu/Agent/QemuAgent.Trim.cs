using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>One mounted file system guest-fstrim went through: how much it discarded, or why it could not.</summary>
public sealed record GuestTrimResult(string Path, long TrimmedBytes, string? Error);

/// <summary>Discarding free space in the guest: guest-fstrim.</summary>
public sealed partial class QemuAgent
{
    /// <summary>
    /// Trims every mounted file system in the guest (FITRIM on each mount point). File systems that cannot trim
    /// (the initramfs, /proc) come back with an error, not as a failure of the call.
    /// </summary>
    public async Task<IReadOnlyList<GuestTrimResult>> FsTrimAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reply = await ExecuteAsync("guest-fstrim", new JsonObject(), timeout, cancellationToken);
        return ParseTrim(reply);
    }

    /// <summary>{"paths": [{"path": "/data", "trimmed": 123, "minimum": 0} | {"path": "/", "error": "..."}]}; untrusted, bounded.</summary>
    internal static IReadOnlyList<GuestTrimResult> ParseTrim(JsonNode? reply)
    {
        if (reply?["paths"] is not JsonArray paths) return [];
        var list = new List<GuestTrimResult>();
        foreach (var p in paths.Take(1024))
        {
            if (p is not JsonObject o || o["path"] is not JsonValue path || !path.TryGetValue<string>(out var s)) continue;
            long trimmed = o["trimmed"] is JsonValue t && t.TryGetValue<long>(out var n) ? n : 0;
            string? error = o["error"] is JsonValue e && e.TryGetValue<string>(out var msg) ? msg : null;
            list.Add(new GuestTrimResult(s.Length > 4096 ? s[..4096] : s, trimmed, error));
        }
        return list;
    }
}
