using System.Text.Json;
using System.Text.Json.Serialization;

namespace Virtuozzo.Engine.Service;

/// <summary>JSON for the service's status, events and caches: camelCase, enums as names, bounded reads.</summary>
public static class HostServiceJson
{
    /// <summary>No status or cache file is ever this big; a larger one is not ours and is not read.</summary>
    public const long MaxFileBytes = 1 << 20;

    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        MaxDepth = 16,
    };

    /// <summary>Reads a JSON file; null when it is missing, too big, or not valid (a reader never trusts it).</summary>
    public static T? TryRead<T>(string path) where T : class
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxFileBytes) return null;
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// Replaces a run-folder file (status, live caches, usage snapshot) atomically for readers, without fsync: they are
    /// rewritten every few seconds and a reboot clears the run folder, so a flush to disk buys nothing.
    /// </summary>
    public static void Write<T>(string path, T value) =>
        Store.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(value, Options),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, durable: false);
}
