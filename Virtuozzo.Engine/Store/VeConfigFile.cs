using System.Collections.Concurrent;
using Virtuozzo.Engine.Errors;
using YamlDotNet.Core;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// Reads and writes one <c>ve.yaml</c>. Reads are validated (schema version, required keys) so a truncated or
/// hand-broken file gives an error naming the file and line instead of a half-filled object. Listing keeps parsed
/// configs keyed by the file's identity (inode, size, mtime), so a warm listing of a large registry is a stat per VE.
/// </summary>
public static partial class VeConfigFile
{
    private sealed record CacheEntry(long Inode, long Size, long ChangeNs, VeConfig Config);
    private static readonly ConcurrentDictionary<string, CacheEntry> Cache = new();

    /// <summary>Reads the file fresh from disk (for read-modify-write under a lock).</summary>
    public static VeConfig Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (FileNotFoundException ex) { throw new VzConfigCorruptException(path, null, "the file is missing.", ex); }
        return Parse(path, text);
    }

    /// <summary>Reads through the cache; the returned object is shared and must not be changed.</summary>
    public static VeConfig ReadCached(string path)
    {
        var info = Stat(path);
        if (info is null) throw new VzConfigCorruptException(path, null, "the file is missing.");
        if (Cache.TryGetValue(path, out var hit) && hit.Inode == info.Value.Inode && hit.Size == info.Value.Size && hit.ChangeNs == info.Value.ChangeNs)
            return hit.Config;
        var config = Read(path);
        Cache[path] = new CacheEntry(info.Value.Inode, info.Value.Size, info.Value.ChangeNs, config);
        return config;
    }

    public static VeConfig Parse(string path, string text)
    {
        if (text.Length > 4 * 1024 * 1024)
            throw new VzConfigCorruptException(path, null, "the file is larger than 4 MiB; a VE config is a few KiB.");
        VeConfig? config;
        try
        {
            config = Yaml.Deserializer.Deserialize<VeConfig>(text);
        }
        catch (YamlException ex)
        {
            throw new VzConfigCorruptException(path, ex.Start.Line, YamlErrorText.Describe(ex), ex)
            { RecommendedAction = $"Fix the file by hand, restore it from a backup, or remove the VE with Remove-VzContainer/Remove-VzVm -Id." };
        }
        if (config is null) throw new VzConfigCorruptException(path, 1, "the file is empty.");
        if (config.SchemaVersion > VeConfig.CurrentSchemaVersion)
            throw new VzConfigCorruptException(path, null, $"schemaVersion {config.SchemaVersion} was written by a newer Virtuozzo module (this one reads up to {VeConfig.CurrentSchemaVersion}).");
        if (config.SchemaVersion < 1) throw new VzConfigCorruptException(path, null, "the 'schemaVersion' key is missing; the file may be truncated.");
        if (config.Id == Guid.Empty) throw new VzConfigCorruptException(path, null, "the 'id' key is missing; the file may be truncated.");
        if (string.IsNullOrEmpty(config.Name)) throw new VzConfigCorruptException(path, null, "the 'name' key is missing; the file may be truncated.");
        if (config.Type == VeType.Container && config.Container is null)
            throw new VzConfigCorruptException(path, null, "a container config has no 'container' section; the file may be truncated.");
        if (config.Type == VeType.VirtualMachine && config.Vm is null)
            throw new VzConfigCorruptException(path, null, "a VM config has no 'vm' section; the file may be truncated.");
        return config;
    }

    /// <summary>
    /// The name and type a config that does not parse still shows on its top-level lines, so a user who names a
    /// broken VE hears that it is broken rather than that it does not exist. Null where the lines are gone too.
    /// </summary>
    public static (string? Name, VeType? Type) Salvage(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            var buffer = new char[64 * 1024]; // the keys come first; never read a huge file whole
            var text = new string(buffer, 0, reader.ReadBlock(buffer, 0, buffer.Length));
            var name = TopLevelValue().Matches(text).FirstOrDefault(m => m.Groups["key"].Value == "name")?.Groups["value"].Value;
            var type = TopLevelValue().Matches(text).FirstOrDefault(m => m.Groups["key"].Value == "type")?.Groups["value"].Value;
            return (name is { Length: > 0 } ? name : null, Enum.TryParse<VeType>(type, out var t) ? t : null);
        }
        catch (IOException) { return (null, null); }
        catch (UnauthorizedAccessException) { return (null, null); }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<key>name|type):[ \t]*['""]?(?<value>[A-Za-z0-9._-]+)['""]?[ \t]*\r?$", System.Text.RegularExpressions.RegexOptions.Multiline)]
    private static partial System.Text.RegularExpressions.Regex TopLevelValue();

    public static void Write(string path, VeConfig config)
    {
        config.SchemaVersion = VeConfig.CurrentSchemaVersion;
        AtomicFile.WriteAllText(path, Yaml.Serializer.Serialize(config));
    }

    /// <summary>A deep copy, so callers can change a config without touching the cached one.</summary>
    public static VeConfig Clone(VeConfig config) => Yaml.Deserializer.Deserialize<VeConfig>(Yaml.Serializer.Serialize(config));

    private static (long Inode, long Size, long ChangeNs)? Stat(string path)
    {
        // Every write is a rename of a new file, so a changed config always has a new inode; ctime and size
        // guard against an inode number being reused for a later write.
        return Native.LibC.StatIdentity(path) is { } s ? ((long)s.Inode, s.Size, s.CTimeNs) : null;
    }
}
