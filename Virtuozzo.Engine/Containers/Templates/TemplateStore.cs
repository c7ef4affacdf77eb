using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Processes;
using Virtuozzo.Engine.Progress;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Containers.Templates;

/// <summary>
/// Cached OS templates: <c>&lt;TemplateRoot&gt;/&lt;name&gt;/template.yaml</c> plus a <c>root/</c> tree owned by host
/// root (container creation shifts a copy into the container's id range). A template is built in a hidden
/// folder and renamed into place, so a half-built one is never listed.
/// </summary>
public sealed partial class TemplateStore(VzPaths paths, ProcessRunner runner, ILogger<TemplateStore> logger)
{
    public const string MetadataFile = "template.yaml";

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    private static partial Regex SafeName();

    /// <summary>Known template names and how each is built, so <c>New-VzContainer -Template busybox</c> works on a fresh host.</summary>
    public static readonly IReadOnlyDictionary<string, TemplateKind> WellKnown = new Dictionary<string, TemplateKind>
    {
        ["busybox"] = TemplateKind.Busybox,
        ["debian-12"] = TemplateKind.Debian,
    };

    public IReadOnlyList<TemplateInfo> List()
    {
        if (!Directory.Exists(paths.TemplateRoot)) return [];
        var list = new List<TemplateInfo>();
        foreach (var dir in Directory.EnumerateDirectories(paths.TemplateRoot))
            if (!Path.GetFileName(dir).StartsWith('.') && TryRead(dir) is { } t) list.Add(t);
        return list.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
    }

    public TemplateInfo? TryGet(string name) =>
        SafeName().IsMatch(name) ? TryRead(Path.Combine(paths.TemplateRoot, name)) : null;

    public TemplateInfo Get(string name) => TryGet(name) ?? throw NotFound(name);

    /// <summary>The template, building a well-known one (busybox) on first use; an unknown name is a not-found error.</summary>
    public async Task<TemplateInfo> GetOrBuildAsync(string name, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        Validate(name);
        if (TryGet(name) is { } t) return t;
        if (!WellKnown.TryGetValue(name, out var kind) || kind != TemplateKind.Busybox) throw NotFound(name);
        return await BuildAsync(name, kind, force: false, reuseExisting: true, progress, ct);
    }

    public static void Validate(string name)
    {
        if (!SafeName().IsMatch(name ?? ""))
            throw new VzInvalidArgumentException("VzInvalidTemplateName", $"'{name}' is not a valid template name.", name, "Name")
            { RecommendedAction = "Use lowercase letters, digits, '.', '_' and '-' (for example 'busybox' or 'debian-12')." };
    }

    /// <summary>Builds a template. An existing one is kept unless <paramref name="force"/>.</summary>
    public Task<TemplateInfo> NewAsync(string name, TemplateKind kind, bool force, IProgress<VzProgress>? progress, CancellationToken ct) =>
        BuildAsync(name, kind, force, reuseExisting: false, progress, ct);

    /// <summary>
    /// Builds under the template lock. <paramref name="reuseExisting"/>: a template that another process finished while
    /// this one waited for the lock is returned, not an error (two first uses of busybox at once).
    /// </summary>
    private async Task<TemplateInfo> BuildAsync(string name, TemplateKind kind, bool force, bool reuseExisting, IProgress<VzProgress>? progress, CancellationToken ct)
    {
        Validate(name);
        Directory.CreateDirectory(paths.TemplateRoot);
        using var _ = FileLock.Acquire(Path.Combine(paths.TemplateRoot, ".lock"), TimeSpan.FromMinutes(10), name, ct);
        var final = Path.Combine(paths.TemplateRoot, name);
        if (TryRead(final) is { } existing && !force)
        {
            if (reuseExisting) return existing;
            throw new VzAlreadyExistsException("VzTemplateExists", $"The template '{name}' already exists.", name)
            { RecommendedAction = "Use it as it is, or rebuild it with -Force." };
        }
        var build = Path.Combine(paths.TemplateRoot, $".build-{name}-{Environment.ProcessId}");
        if (Directory.Exists(build)) Directory.Delete(build, true);
        Directory.CreateDirectory(Path.Combine(build, "root"));
        try
        {
            var info = new TemplateInfo { Name = name, Kind = kind, CreatedAt = DateTimeOffset.UtcNow };
            progress?.Report(new VzProgress($"Building template {name}", kind == TemplateKind.Debian ? "debootstrap (takes about a minute)" : "busybox", null));
            switch (kind)
            {
                case TemplateKind.Busybox: await BusyboxTemplate.BuildAsync(runner, Path.Combine(build, "root"), ct); info.Description = "BusyBox (static) with busybox init"; break;
                case TemplateKind.Debian: await DebianTemplate.BuildAsync(runner, Path.Combine(build, "root"), ct); info.Description = "Debian 12 (bookworm) minbase with sysvinit"; break;
                default: throw new VzInvalidArgumentException("VzInvalidTemplateKind", $"Unknown template kind {kind}.", kind, "Kind");
            }
            info.StopSignal = InitStopSignal.Detect(Path.Combine(build, "root"), info.Init);
            info.SizeBytes = TreeSize(Path.Combine(build, "root"));
            AtomicFile.WriteAllText(Path.Combine(build, MetadataFile), Yaml.Serializer.Serialize(info), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            if (Directory.Exists(final))
            {
                var old = Path.Combine(paths.TemplateRoot, $".old-{name}-{Environment.ProcessId}");
                Directory.Move(final, old);
                Directory.Move(build, final);
                Directory.Delete(old, true);
            }
            else Directory.Move(build, final);
            logger.LogInformation("Built template {Name} ({Kind}).", name, kind);
            progress?.Report(new VzProgress($"Building template {name}", "done", 100) { Completed = true });
            return TryRead(final)!;
        }
        catch
        {
            if (Directory.Exists(build)) Directory.Delete(build, true);
            throw;
        }
    }

    /// <summary>Deletes a template. Containers made from it keep working: they have their own copy.</summary>
    public void Remove(string name)
    {
        var t = Get(name);
        var trash = Path.Combine(paths.TemplateRoot, $".trash-{name}-{Environment.ProcessId}");
        Directory.Move(t.Path, trash);
        Directory.Delete(trash, true);
        logger.LogInformation("Removed template {Name}.", name);
    }

    private static TemplateInfo? TryRead(string dir)
    {
        var file = Path.Combine(dir, MetadataFile);
        if (!File.Exists(file)) return null;
        try
        {
            var info = Yaml.Deserializer.Deserialize<TemplateInfo>(File.ReadAllText(file));
            if (info is null) return null;
            info.Path = dir;
            if (info.Name.Length == 0) info.Name = Path.GetFileName(dir);
            return info;
        }
        catch (YamlDotNet.Core.YamlException) { return null; }
    }

    private static long TreeSize(string root) =>
        new DirectoryInfo(root).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true })
            .Where(f => f.LinkTarget is null).Sum(f => f.Length);

    private static VzNotFoundException NotFound(string name) =>
        new("VzTemplateNotFound", $"No template named '{name}' exists on this host.", name)
        { RecommendedAction = "Run Get-VzTemplate to list templates, or New-VzTemplate to build one ('busybox' is built on first use)." };
}
