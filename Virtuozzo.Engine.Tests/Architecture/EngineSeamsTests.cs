using System.Text.RegularExpressions;

namespace Virtuozzo.Engine.Tests.Architecture;

/// <summary>
/// Scans the engine's source for the seams the design promises: QMP is spoken only by the typed monitor
/// (Qemu/Monitor/), so a command string anywhere else is a seam broken; the store owns the VE record it persists
/// and knows nothing of the areas that map to and from it.
/// </summary>
public sealed partial class EngineSeamsTests
{
    private static readonly string EngineRoot = FindEngineRoot();

    private static string FindEngineRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Virtuozzo.Engine", "Virtuozzo.Engine.csproj")))
                return Path.Combine(dir.FullName, "Virtuozzo.Engine");
        throw new DirectoryNotFoundException("The engine's source folder is not above the test output.");
    }

    private static IEnumerable<(string Relative, string Text)> Sources(string? under = null) =>
        Directory.EnumerateFiles(under is null ? EngineRoot : Path.Combine(EngineRoot, under), "*.cs", SearchOption.AllDirectories)
            .Select(f => (Relative: Path.GetRelativePath(EngineRoot, f).Replace('\\', '/'), Path: f))
            .Where(f => !f.Relative.StartsWith("obj/", StringComparison.Ordinal) && !f.Relative.StartsWith("bin/", StringComparison.Ordinal))
            .Select(f => (f.Relative, File.ReadAllText(f.Path)));

    [GeneratedRegex(@"ExecuteAsync\(\s*""([a-z][a-z0-9_-]*)""")]
    private static partial Regex ExecuteWithLiteral();

    [GeneratedRegex(@"(?<![@$])""((?:[^""\\\n]|\\.)*)""")]
    private static partial Regex StringLiteral();

    /// <summary>The QMP commands the monitor sends: every literal handed to ExecuteAsync in Qemu/Monitor/.</summary>
    private static HashSet<string> MonitorCommands() =>
        Sources("Qemu/Monitor").SelectMany(s => ExecuteWithLiteral().Matches(s.Text)).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    [Fact]
    public void The_monitor_knows_the_commands_the_engine_uses()
    {
        // A floor, so the scan below cannot pass by finding nothing.
        var commands = MonitorCommands();
        foreach (var c in new[] { "query-status", "cont", "stop", "system_powerdown", "quit", "migrate", "query-migrate", "migrate_cancel",
                     "blockdev-add", "blockdev-del", "device_add", "device_del", "query-pci", "block_resize", "object-add", "query-cpus-fast", "qmp_capabilities" })
            Assert.Contains(c, commands);
    }

    [Fact]
    public void No_QMP_command_string_outside_the_monitor_folder()
    {
        var commands = MonitorCommands();
        var offences = new List<string>();
        foreach (var (file, text) in Sources().Where(s => !s.Relative.StartsWith("Qemu/Monitor/", StringComparison.Ordinal)))
        {
            // A raw QMP/QGA message built by hand: only the protocol clients may.
            if (!file.StartsWith("Qemu/Agent/", StringComparison.Ordinal) && text.Contains("[\"execute\"]", StringComparison.Ordinal))
                offences.Add($"{file}: builds an \"execute\" message");
            foreach (Match m in ExecuteWithLiteral().Matches(text))
                if (!file.StartsWith("Qemu/Agent/", StringComparison.Ordinal) || commands.Contains(m.Groups[1].Value))
                    offences.Add($"{file}: ExecuteAsync(\"{m.Groups[1].Value}\")");
            // A command name held in a string to be sent later. Plain words ("stop", "quit") are ordinary text too,
            // so only the unmistakable names (query-status, block_resize...) count here; the checks above catch
            // plain words handed to execute.
            foreach (Match m in StringLiteral().Matches(text))
                if (commands.Contains(m.Groups[1].Value) && m.Groups[1].Value.IndexOfAny(['-', '_']) >= 0)
                    offences.Add($"{file}: \"{m.Groups[1].Value}\"");
        }
        Assert.True(offences.Count == 0, "QMP spoken outside Qemu/Monitor/:\n" + string.Join('\n', offences));
    }

    /// <summary>A using or a qualified name of the areas: "Virtuozzo.Engine.Qemu" anywhere, or "Containers.X" / "Qemu.X" relative to the engine's namespace.</summary>
    [GeneratedRegex(@"\bVirtuozzo\.Engine\.(?:Containers|Qemu)\b|(?<![\w.])(?:Containers|Qemu)\.[A-Z]")]
    private static partial Regex AreaNamespaceReference();

    [Fact]
    public void No_file_in_Store_references_the_container_or_QEMU_namespaces()
    {
        var files = Sources("Store").ToList();
        Assert.Contains(files, f => f.Relative == "Store/VeConfig.cs"); // the scan looks where the record is
        var offences = files
            .SelectMany(f => f.Text.Split('\n').Select((line, i) => (f.Relative, Line: i + 1, Text: line)))
            .Where(l => AreaNamespaceReference().IsMatch(l.Text))
            .Select(l => $"{l.Relative}:{l.Line}: {l.Text.Trim()}")
            .ToList();
        Assert.True(offences.Count == 0, "Store/ depends on an area:\n" + string.Join('\n', offences));
    }
}
