using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Errors;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// Desired state in files: writes the settings of VEs as a YAML <see cref="VeConfigDocument"/>, and reads such a file
/// back into a plan (create or update by name, with the settings that differ) that is then applied through the
/// <see cref="VeStore"/>. A file is validated completely before anything changes: one bad entry means an error naming
/// the file and line, and no VE touched.
/// </summary>
public sealed class VeConfigExchange(VeStore store, ILogger<VeConfigExchange> logger)
{
    /// <summary>A desired-state file is a few KiB per VE; anything far larger is not one.</summary>
    public const int MaxFileBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Creates a VE named in a file through its area (template copy, uid range and MAC for a container; a VM's
    /// folder and identity), returning its id; the file's settings are then applied to it. Set in <see cref="VzEngine"/>.
    /// </summary>
    public Func<VeConfig, CancellationToken, Task<Guid>>? Create { get; set; }

    /// <summary>
    /// Brings an existing VE to a planned configuration through its area's Set call (checks, admission control, live
    /// apply), as Set-VzContainer and Set-VzVm do. Set in <see cref="VzEngine"/>; without it (tests of the file
    /// format alone) the configuration is written to ve.yaml as it is.
    /// </summary>
    public Func<Guid, VeConfig, CancellationToken, Task>? Apply { get; set; }

    /// <summary>The YAML text of a document holding the settings of <paramref name="records"/>.</summary>
    public string Export(IEnumerable<VeRecord> records)
    {
        var document = new VeConfigDocument();
        foreach (var r in records)
        {
            if (r.Config is null)
                throw new VzInvalidStateException("VzVeNotReady", $"The VE {r.Id} has no readable configuration ({r.State}); it cannot be exported.", r.Id)
                { RecommendedAction = "Remove the half-created or corrupt VE by -Id, or restore its ve.yaml." };
            var c = VeConfigFile.Clone(r.Config);
            document.Ves.Add(new VeSettingsEntry
            {
                Name = c.Name, Type = c.Type, Description = c.Description, OnBoot = c.OnBoot,
                BootOrder = c.BootOrder, BootDelay = c.BootDelay, AutoStop = c.AutoStop,
                Memory = c.Memory, Cpu = c.Cpu, Container = c.Container, Vm = c.Vm,
                // Written even when empty: the file is the VE's whole desired state, so importing it removes shares added since.
                SharedFolders = c.SharedFolders ?? [],
                NetworkAdapters = [.. (c.NetworkAdapters ?? []).Select(VeAdapterSettings.From)],
            });
        }
        var header = new StringBuilder()
            .AppendLine("# Virtuozzo VE settings (Export-VzConfig). Import-VzConfig creates the VEs named here that do not exist")
            .AppendLine("# and updates the ones that do; a section left out is left as it is. Sizes are bytes.");
        return header + Yaml.Serializer.Serialize(document);
    }

    /// <summary>Writes <see cref="Export"/> to a file atomically (readable by all: it holds no secrets).</summary>
    public void ExportToFile(IEnumerable<VeRecord> records, string path)
    {
        var text = Export(records);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir))
            throw new VzNotFoundException("VzPathNotFound", $"The folder '{dir}' does not exist.", path) { RecommendedAction = "Create the folder first, or give another -Path." };
        AtomicFile.WriteAllText(path, text, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    /// <summary>Reads and validates a file, then works out what importing it would do. Changes nothing.</summary>
    public IReadOnlyList<VeConfigImportResult> Plan(string path, Func<string, bool>? include = null)
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new VzNotFoundException("VzConfigFileNotFound", $"The file '{path}' does not exist.", path) { RecommendedAction = "Check the -Path, or write one with Export-VzConfig." };
            if (info.Length > MaxFileBytes) throw new VzConfigCorruptException(path, null, $"the file is {info.Length} bytes; a VE settings file is a few KiB per VE (at most {MaxFileBytes}).");
            text = File.ReadAllText(path);
        }
        catch (UnauthorizedAccessException ex) { throw new VzConfigCorruptException(path, null, "the file cannot be read: " + ex.Message, ex); }
        return PlanText(path, text, include);
    }

    /// <summary><see cref="Plan"/> for text already in memory; <paramref name="path"/> names it in errors.</summary>
    public IReadOnlyList<VeConfigImportResult> PlanText(string path, string text, Func<string, bool>? include = null)
    {
        var (document, lines) = Parse(path, text);
        var existing = store.List();
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var adapterImport = new Network.Adapters.NetworkAdapterImport(store, new Network.VirtualNetworkStore(store.Paths));
        var plan = new List<VeConfigImportResult>();
        for (var i = 0; i < document.Ves.Count; i++)
        {
            var entry = document.Ves[i];
            var line = i < lines.Count ? lines[i] : 0;
            VzConfigCorruptException Bad(string detail) => new(path, line, detail)
            { RecommendedAction = "Fix that entry of the file; nothing was imported." };

            if (entry is null) throw Bad("the entry is empty.");
            try { VeNames.Validate(entry.Name); }
            catch (VzInvalidArgumentException ex) { throw Bad(ex.Message + " " + ex.RecommendedAction); }
            if (seen.TryGetValue(entry.Name, out var first)) throw Bad($"the name '{entry.Name}' appears twice (first at line {first}).");
            seen[entry.Name] = line;
            if (entry.Type is not { } type) throw Bad($"'{entry.Name}' has no 'type' (Container or VirtualMachine).");
            if (type == VeType.Container && entry.Vm is not null) throw Bad($"'{entry.Name}' is a container but has a 'vm' section.");
            if (type == VeType.VirtualMachine && entry.Container is not null) throw Bad($"'{entry.Name}' is a VM but has a 'container' section.");
            if (entry.Memory is { } m)
            {
                if (m.MemorySize < 0 || m.SwapSize < 0) throw Bad($"'{entry.Name}': memory sizes cannot be negative.");
                try { Memory.MemGuarantee.FromConfig(m.GuaranteePercent).Validate(entry.Name); }
                catch (VzInvalidArgumentException ex) { throw Bad($"'{entry.Name}': memory.guaranteePercent: {ex.Message}"); }
            }
            if (entry.Cpu is { } c)
            {
                if (c.Units is < 8 or > 500000) throw Bad($"'{entry.Name}': cpu.units is {c.Units}; it must be 8-500000 (default 1000).");
                if (c.LimitPercent is < 0) throw Bad($"'{entry.Name}': cpu.limitPercent cannot be negative.");
                if (c.LimitMhz is < 0) throw Bad($"'{entry.Name}': cpu.limitMhz cannot be negative.");
                if (c.LimitPercent is > 0 && c.LimitMhz is > 0) throw Bad($"'{entry.Name}': give cpu.limitPercent or cpu.limitMhz, not both.");
                if (c.Count is < 1) throw Bad($"'{entry.Name}': cpu.count must be at least 1.");
            }
            var automation = new VeAutomationChanges { BootOrder = entry.BootOrder, BootDelay = entry.BootDelay, AutoStop = entry.AutoStop };
            try { automation.Validate(entry.Name); }
            catch (VzInvalidArgumentException ex) { throw Bad($"'{entry.Name}': {ex.Message}"); }
            List<VeSharedFolder>? shares = null;
            if (entry.SharedFolders is { } listed)
            {
                try { shares = CheckShares(listed, type, entry.Name); }
                catch (VzException ex) { throw Bad($"'{entry.Name}': sharedFolders: {ex.Message} {ex.RecommendedAction}"); }
            }
            var current = existing.FirstOrDefault(r => r.Config is { } rc && string.Equals(rc.Name, entry.Name, StringComparison.OrdinalIgnoreCase));
            // Adapters are checked against this host (its networks, the MACs in use), as Add-VzNetworkAdapter checks them.
            List<VeNetworkAdapter>? PlanAdapters(VeConfig desired)
            {
                try { return adapterImport.Plan(entry.NetworkAdapters!, desired, current?.Config); }
                catch (VzException ex) { throw Network.Adapters.NetworkAdapterImport.InFile(ex, path, line, entry.Name); }
            }
            if (include is not null && !include(entry.Name))
            {
                // Left out by -Name, but the whole file is checked: its adapters too, against the VE as it would be.
                if (entry.NetworkAdapters is not null && (current is null || current.Config!.Type == type))
                    PlanAdapters(new VeConfig { Name = entry.Name, Type = type, Container = entry.Container ?? current?.Config!.Container, Vm = entry.Vm ?? current?.Config!.Vm });
                continue;
            }

            if (current is null)
            {
                if (type == VeType.Container && string.IsNullOrEmpty(entry.Container?.Template))
                    throw Bad($"'{entry.Name}' does not exist yet, and a new container needs 'container: {{ template: <name> }}'.");
                var desired = new VeConfig
                {
                    Name = entry.Name, Type = type, Description = entry.Description, OnBoot = entry.OnBoot ?? false,
                    Memory = entry.Memory ?? new(), Cpu = entry.Cpu ?? new(),
                    Container = type == VeType.Container ? entry.Container : null,
                    Vm = type == VeType.VirtualMachine ? entry.Vm ?? new() : null,
                    SharedFolders = shares,
                };
                if (entry.NetworkAdapters is not null) desired.NetworkAdapters = PlanAdapters(desired);
                automation.ApplyCommon(desired);
                plan.Add(new VeConfigImportResult
                {
                    Name = entry.Name, Type = type, Action = VeConfigImportAction.Create, Path = path, Line = line,
                    Changes = Diff(null, desired), Desired = desired,
                });
                continue;
            }
            if (current.Config!.Type != type)
                throw Bad($"'{entry.Name}' is a {Describe(type)} in the file, but the VE of that name on this host is a {Describe(current.Config.Type)}.");
            var updated = VeConfigFile.Clone(current.Config);
            if (entry.Description is not null) updated.Description = entry.Description;
            if (entry.OnBoot is { } onBoot) updated.OnBoot = onBoot;
            if (entry.Memory is not null) updated.Memory = entry.Memory;
            if (entry.Cpu is not null) updated.Cpu = entry.Cpu;
            if (entry.Container is not null) updated.Container = entry.Container;
            if (entry.Vm is not null) updated.Vm = entry.Vm;
            if (entry.SharedFolders is not null) updated.SharedFolders = shares;
            automation.ApplyCommon(updated);
            VeIdentity.Keep(current.Config, updated);
            // After Keep: whether eth0 is the first NIC's depends on the VE's settings as they will be.
            if (entry.NetworkAdapters is not null) updated.NetworkAdapters = PlanAdapters(updated);
            var changes = Diff(current.Config, updated);
            plan.Add(new VeConfigImportResult
            {
                Name = current.Config.Name, Type = type, Id = current.Id, Path = path, Line = line,
                Action = changes.Count == 0 ? VeConfigImportAction.Unchanged : VeConfigImportAction.Update,
                Changes = changes, Desired = updated,
            });
        }
        return plan;
    }

    /// <summary>Carries out one planned entry: a new VE is created and given its settings, an existing one changed (live when it runs) through <see cref="Apply"/>.</summary>
    public async Task<VeConfigImportResult> ApplyAsync(VeConfigImportResult planned, CancellationToken cancellationToken = default)
    {
        var desired = planned.Desired ?? throw new ArgumentException("Only entries returned by Plan can be applied.", nameof(planned));
        switch (planned.Action)
        {
            case VeConfigImportAction.Create:
            {
                var create = Create ?? throw new VzCapabilityMissingException("VzImportCannotCreate",
                    $"'{desired.Name}' does not exist and this engine has no way to create it.", desired.Name, "VE provisioning");
                var id = await create(desired, cancellationToken).ConfigureAwait(false);
                if (Apply is { } applyNew) await applyNew(id, desired, cancellationToken).ConfigureAwait(false);
                else store.Update(id, c =>
                {
                    var created = VeConfigFile.Clone(c);
                    c.Description = desired.Description; c.OnBoot = desired.OnBoot;
                    (c.BootOrder, c.BootDelay, c.AutoStop) = (desired.BootOrder, desired.BootDelay, desired.AutoStop);
                    if (desired.Memory.MemorySize > 0) c.Memory = desired.Memory;
                    c.Cpu = desired.Cpu;
                    c.Container = desired.Container ?? c.Container; c.Vm = desired.Vm ?? c.Vm;
                    c.SharedFolders = desired.SharedFolders;
                    c.NetworkAdapters = desired.NetworkAdapters;
                    VeIdentity.Keep(created, c);
                }, cancellationToken);
                logger.LogInformation("Created '{Name}' from {Path}.", desired.Name, planned.Path);
                return planned with { Id = id, Applied = true, Desired = null };
            }
            case VeConfigImportAction.Update:
                if (Apply is { } apply) await apply(planned.Id, desired, cancellationToken).ConfigureAwait(false);
                else store.Update(planned.Id, c =>
                {
                    c.Description = desired.Description; c.OnBoot = desired.OnBoot;
                    (c.BootOrder, c.BootDelay, c.AutoStop) = (desired.BootOrder, desired.BootDelay, desired.AutoStop);
                    c.Memory = desired.Memory; c.Cpu = desired.Cpu; c.Container = desired.Container; c.Vm = desired.Vm;
                    c.SharedFolders = desired.SharedFolders;
                    c.NetworkAdapters = desired.NetworkAdapters;
                }, cancellationToken);
                logger.LogInformation("Updated '{Name}' from {Path}: {Changes}.", planned.Name, planned.Path, string.Join("; ", planned.Changes));
                return planned with { Applied = true, Desired = null };
            default:
                return planned with { Applied = true, Desired = null };
        }
    }

    /// <summary>
    /// The shares of a file entry as Add-VzSharedFolder would store them (same checks: name, canonical existing folder
    /// outside the data root, guest path, transport for the VE's kind, no clash); null for an empty list, as ve.yaml has it.
    /// </summary>
    private List<VeSharedFolder>? CheckShares(List<VeSharedFolder> listed, VeType type, string veName)
    {
        var checkedShares = new List<VeSharedFolder>();
        foreach (var s in listed)
        {
            if (s is null) continue;
            SharedFolders.SharedFolderRules.ValidateName(s.Name, veName);
            var hostPath = SharedFolders.SharedFolderRules.ValidateHostPath(s.Path, store.Paths.DataRoot, veName);
            var share = SharedFolders.SharedFolderRules.Check(s.Name, hostPath, s.GuestPath, s.ReadOnly,
                s.Transport ?? SharedFolders.SharedFolderTransport.Auto, type == VeType.VirtualMachine, veName);
            SharedFolders.SharedFolderRules.CheckAgainst(checkedShares, share, veName);
            checkedShares.Add(share);
        }
        return checkedShares.Count == 0 ? null : checkedShares;
    }

    /// <summary>Parses the document and finds the line where each entry of 'ves' starts.</summary>
    internal static (VeConfigDocument Document, IReadOnlyList<int> Lines) Parse(string path, string text)
    {
        if (text.Length > MaxFileBytes) throw new VzConfigCorruptException(path, null, "the file is too large for a VE settings file.");
        var lines = new List<int>();
        VeConfigDocument? document;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0) throw new VzConfigCorruptException(path, 1, "the file is empty.");
            if (stream.Documents[0].RootNode is not YamlMappingNode root)
                throw new VzConfigCorruptException(path, stream.Documents[0].RootNode.Start.Line, "the file must be a mapping with 'schemaVersion' and 'ves'.");
            if (root.Children.TryGetValue(new YamlScalarNode("ves"), out var ves))
            {
                if (ves is not YamlSequenceNode seq) throw new VzConfigCorruptException(path, ves.Start.Line, "'ves' must be a list of VEs.");
                lines.AddRange(seq.Children.Select(n => (int)n.Start.Line));
            }
            document = Yaml.Deserializer.Deserialize<VeConfigDocument>(text);
        }
        catch (YamlException ex)
        {
            throw new VzConfigCorruptException(path, ex.Start.Line, YamlErrorText.Describe(ex), ex) { RecommendedAction = "Fix the file at that line; nothing was imported." };
        }
        if (document is null) throw new VzConfigCorruptException(path, 1, "the file is empty.");
        if (document.SchemaVersion > VeConfigDocument.CurrentSchemaVersion)
            throw new VzConfigCorruptException(path, null, $"schemaVersion {document.SchemaVersion} was written by a newer Virtuozzo module (this one reads up to {VeConfigDocument.CurrentSchemaVersion}).");
        if (document.SchemaVersion < 1) throw new VzConfigCorruptException(path, null, "'schemaVersion' must be 1.");
        return (document, lines);
    }

    /// <summary>The settings that differ, as "key: old -> new" with dotted keys (memory.size), ids and times left out.</summary>
    internal static IReadOnlyList<string> Diff(VeConfig? before, VeConfig after)
    {
        var a = before is null ? new SortedDictionary<string, string>(StringComparer.Ordinal) : Flatten(before);
        var b = Flatten(after);
        var changes = new List<string>();
        foreach (var key in a.Keys.Union(b.Keys).Order(StringComparer.Ordinal))
        {
            a.TryGetValue(key, out var x);
            b.TryGetValue(key, out var y);
            if (x == y) continue;
            changes.Add(before is null ? $"{key}: {y}" : $"{key}: {x ?? "(none)"} -> {y ?? "(none)"}");
        }
        return changes;
    }

    private static readonly HashSet<string> Identity = new(StringComparer.Ordinal) { "schemaVersion", "id", "name", "type", "createdAt" };

    /// <summary>An adapter's device layout on this host: kept by an import, never a difference a file asks for.</summary>
    private static readonly HashSet<string> Layout = new(StringComparer.Ordinal) { "slot", "hotplugPort" };

    private static bool IsAdapterLayout(string key) =>
        key.StartsWith("networkAdapters.", StringComparison.Ordinal) && Layout.Contains(key[(key.LastIndexOf('.') + 1)..]);

    private static SortedDictionary<string, string> Flatten(VeConfig config)
    {
        var tree = Yaml.Deserializer.Deserialize<Dictionary<object, object?>>(Yaml.Serializer.Serialize(config)) ?? [];
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Walk(string prefix, object? node)
        {
            switch (node)
            {
                case Dictionary<object, object?> map:
                    foreach (var (k, v) in map) Walk(prefix.Length == 0 ? $"{k}" : $"{prefix}.{k}", v);
                    break;
                // A list of named entries (shared folders, network adapters): one key per entry and field, so a diff says which changed.
                case List<object?> list when list.Count > 0 && list.All(o => o is Dictionary<object, object?> m && m.ContainsKey("name")):
                    foreach (var item in list.Cast<Dictionary<object, object?>>()) Walk($"{prefix}.{item["name"]}", item);
                    break;
                case List<object?> list:
                    result[prefix] = "[" + string.Join(", ", list.Select(o => Convert.ToString(o, CultureInfo.InvariantCulture))) + "]";
                    break;
                default:
                    if (prefix.Length > 0 && !Identity.Contains(prefix) && !IsAdapterLayout(prefix)) result[prefix] = Convert.ToString(node, CultureInfo.InvariantCulture) ?? "";
                    break;
            }
        }
        Walk("", tree);
        return result;
    }

    private static string Describe(VeType type) => type == VeType.VirtualMachine ? "VM" : "container";
}
