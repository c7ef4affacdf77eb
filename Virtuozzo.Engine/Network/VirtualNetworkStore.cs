using System.Text.RegularExpressions;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Network;

/// <summary>
/// Virtual networks on disk: one YAML file per network under <c>&lt;data root&gt;/networks</c>, written atomically
/// (temp file, fsync, rename) while the networks lock is held, as the VE store writes <c>ve.yaml</c>.
/// </summary>
public sealed partial class VirtualNetworkStore(VzPaths paths)
{
    public string Directory => Path.Combine(paths.DataRoot, "networks");

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]
    private static partial Regex NamePattern();

    /// <summary>Network names become file names and show up in nft comments: letters, digits, '.', '-', '_' only.</summary>
    public static void ValidateName(string name)
    {
        if (!NamePattern().IsMatch(name ?? ""))
            throw new VzInvalidArgumentException("VzInvalidNetworkName", $"'{name}' is not a valid network name.", name, "Name")
            { RecommendedAction = "Use 1-32 letters, digits, '.', '-' or '_', starting with a letter or digit (for example 'backend-1')." };
    }

    /// <summary>Held while a network is created, changed or removed (and while the nft ruleset is replaced).</summary>
    public FileLock AcquireLock(CancellationToken ct)
    {
        System.IO.Directory.CreateDirectory(Directory);
        return FileLock.Acquire(Path.Combine(Directory, ".lock"), VeStore.LockTimeout, "networks", ct);
    }

    public IReadOnlyList<VirtualNetwork> List()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return System.IO.Directory.EnumerateFiles(Directory, "*.yaml")
            .Select(Read)
            .OrderBy(n => n.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    public VirtualNetwork? TryGet(string name) =>
        List().FirstOrDefault(n => string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase));

    public void Write(VirtualNetwork network) =>
        AtomicFile.WriteAllText(PathOf(network.Name), Yaml.Serializer.Serialize(network));

    public void Delete(string name)
    {
        File.Delete(PathOf(name));
        AtomicFile.SyncDirectory(Directory);
    }

    private string PathOf(string name) => Path.Combine(Directory, name.ToLowerInvariant() + ".yaml");

    private static VirtualNetwork Read(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Length > 64 * 1024) throw new InvalidDataException("larger than 64 KiB");
            return Yaml.Deserializer.Deserialize<VirtualNetwork>(File.ReadAllText(path)) ?? throw new InvalidDataException("empty");
        }
        catch (Exception ex) when (ex is InvalidDataException or YamlDotNet.Core.YamlException)
        {
            throw new VzConfigCorruptException(path, null, ex.Message, ex);
        }
    }
}
