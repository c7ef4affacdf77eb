using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Snapshots;

/// <summary>
/// The snapshot tree of one VE as kept in its config: names, parents and the current position. Pure logic on a
/// <see cref="VeConfig"/> (the caller holds the VE's lock and writes the config back), shared by VMs and containers.
/// </summary>
public static class SnapshotTree
{
    public const int MaxNameLength = 128;

    /// <summary>Refuses names qemu-img would misread (all digits look like snapshot ids) or that cannot be a file name part.</summary>
    public static void ValidateName(string name, object? target)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || name.Any(char.IsControl) || name.All(char.IsAsciiDigit) || name.Contains('/'))
            throw new VzInvalidArgumentException("VzInvalidSnapshotName",
                $"'{name}' is not a valid snapshot name: 1-{MaxNameLength} characters, not only digits (qemu-img reads those as snapshot ids), no '/' or control characters.", target, "SnapshotName")
            { RecommendedAction = "Choose a name such as 'before-upgrade' or 'daily-2026-11-30'." };
    }

    public static IReadOnlyList<VeSnapshot> All(VeConfig config) => config.Snapshots ?? [];

    /// <summary>The snapshot named <paramref name="name"/> (exact, case-sensitive as the qcow2 tag is), or a not-found error.</summary>
    public static VeSnapshot Find(VeConfig config, string name) =>
        All(config).FirstOrDefault(s => s.Name == name)
        ?? throw new VzNotFoundException("VzSnapshotNotFound", $"The VE '{config.Name}' has no snapshot named '{name}'.", name)
        { RecommendedAction = $"List its snapshots with Get-VzSnapshot -VeName '{config.Name}'." };

    /// <summary>Fails when the name is taken, before anything is written to a disk.</summary>
    public static void RequireFree(VeConfig config, string name)
    {
        ValidateName(name, config.Name);
        if (All(config).Any(s => s.Name == name))
            throw new VzAlreadyExistsException("VzSnapshotExists", $"The VE '{config.Name}' already has a snapshot named '{name}'.", name)
            { RecommendedAction = "Choose another name, or remove the old snapshot first with Remove-VzSnapshot." };
    }

    /// <summary>Records a new snapshot as a child of the current one, and makes it current.</summary>
    public static void Add(VeConfig config, VeSnapshot snapshot)
    {
        RequireFree(config, snapshot.Name);
        snapshot.ParentId = config.CurrentSnapshotId;
        (config.Snapshots ??= []).Add(snapshot);
        config.CurrentSnapshotId = snapshot.Id;
    }

    /// <summary>Makes a restored snapshot the current one: the next snapshot becomes its child (a new branch).</summary>
    public static void MarkRestored(VeConfig config, Guid id) => config.CurrentSnapshotId = id;

    /// <summary>
    /// Drops a snapshot from the tree: its children take its parent, and if the VE was at it, the VE is now at the
    /// parent. The data of every other snapshot is untouched (qcow2 internal snapshots and container copies are
    /// independent of each other).
    /// </summary>
    public static void Remove(VeConfig config, Guid id)
    {
        var list = config.Snapshots ?? [];
        var gone = list.FirstOrDefault(s => s.Id == id);
        if (gone is null) return;
        foreach (var child in list.Where(s => s.ParentId == id)) child.ParentId = gone.ParentId;
        if (config.CurrentSnapshotId == id) config.CurrentSnapshotId = gone.ParentId;
        list.Remove(gone);
        if (list.Count == 0) { config.Snapshots = null; config.CurrentSnapshotId = null; }
    }

    /// <summary>The names of a snapshot's ancestors, nearest first (for display and for checks).</summary>
    public static string? ParentName(VeConfig config, VeSnapshot snapshot) =>
        snapshot.ParentId is { } p ? All(config).FirstOrDefault(s => s.Id == p)?.Name : null;
}
