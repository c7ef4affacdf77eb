using Microsoft.Extensions.Logging;
using Virtuozzo.Engine.Configuration;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// The VE registry: one folder per VE under <see cref="VzPaths.PrivateRoot"/>, named by UUID, holding
/// <c>ve.yaml</c>. Name uniqueness is decided under the registry lock; each config change is a
/// read-modify-write under the VE's own lock, written atomically, so concurrent pwsh processes lose nothing.
/// </summary>
public sealed class VeStore(VzPaths paths, ILogger<VeStore> logger)
{
    /// <summary>How long to wait for another process's lock before giving up with a timeout error.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    private const string VeLockFileName = ".lock";

    public VzPaths Paths => paths;

    /// <summary>Every VE folder, including half-created and unreadable ones (their state says so).</summary>
    public IReadOnlyList<VeRecord> List()
    {
        if (!Directory.Exists(paths.PrivateRoot)) return [];
        var records = new List<VeRecord>();
        foreach (var dir in Directory.EnumerateDirectories(paths.PrivateRoot))
        {
            if (!Guid.TryParseExact(Path.GetFileName(dir), "D", out var id)) continue; // trash and foreign folders
            records.Add(Load(id, dir));
        }
        records.Sort((a, b) => string.Compare(a.DisplayName, b.DisplayName, StringComparison.OrdinalIgnoreCase));
        return records;
    }

    /// <summary>The VE with this id, or null.</summary>
    public VeRecord? TryGet(Guid id)
    {
        var dir = paths.VeDirectory(id);
        return Directory.Exists(dir) ? Load(id, dir) : null;
    }

    /// <summary>The VE with this exact name (case-insensitive), or null.</summary>
    public VeRecord? TryFind(string name) =>
        List().FirstOrDefault(r => r.Config is not null && string.Equals(r.Config.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Registers a new VE: checks the name, makes its folder and writes its config with a creation marker.
    /// The caller provisions it (template copy, disks) and then calls <see cref="CompleteCreation"/>; a crash in
    /// between leaves a VE listed as <see cref="VeRegistrationState.Incomplete"/>.
    /// </summary>
    public VeRecord BeginCreate(VeConfig config, CancellationToken cancellationToken = default)
    {
        VeNames.Validate(config.Name);
        if (config.Id == Guid.Empty) config.Id = Guid.NewGuid();
        if (config.CreatedAt == default) config.CreatedAt = DateTimeOffset.UtcNow;
        Directory.CreateDirectory(paths.PrivateRoot);
        using (AcquireRegistryLock(config.Name, cancellationToken))
        {
            if (TryFind(config.Name) is { } existing)
                throw new VzAlreadyExistsException("VzVeNameInUse",
                    $"A {Describe(existing)} named '{config.Name}' already exists (id {existing.Id}).", config.Name)
                { RecommendedAction = "Choose another name, or remove or rename the existing VE first." };
            var dir = paths.VeDirectory(config.Id);
            if (Directory.Exists(dir))
                throw new VzAlreadyExistsException("VzVeIdInUse", $"A VE with id {config.Id} already exists.", config.Id);
            // The folder is filled under a name listings skip and then renamed into place: a listing (the host
            // service's loop, Get-VzVm) sees no folder or one with its marker and config, never an empty folder it
            // would have to call corrupt.
            var staging = Path.Combine(paths.PrivateRoot, $".new-{config.Id:N}");
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); // a creator that died here
            Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            CreationMarker.Write(staging);
            VeConfigFile.Write(Path.Combine(staging, "ve.yaml"), config);
            Directory.Move(staging, dir);
            AtomicFile.SyncDirectory(paths.PrivateRoot);
            logger.LogInformation("Registered {Type} '{Name}' ({Id}).", config.Type, config.Name, config.Id);
            return new VeRecord(config.Id, dir, config, VeRegistrationState.Creating, null);
        }
    }

    /// <summary>Marks a VE made by <see cref="BeginCreate"/> as complete.</summary>
    public void CompleteCreation(Guid id) => CreationMarker.Clear(paths.VeDirectory(id));

    /// <summary>
    /// Changes a VE's config under its lock: reads the current file, applies <paramref name="change"/>, writes it
    /// atomically. Returns the written config. Name changes go through <see cref="Rename"/>.
    /// </summary>
    public VeConfig Update(Guid id, Action<VeConfig> change, CancellationToken cancellationToken = default)
    {
        var path = paths.VeConfigPath(id);
        using var _ = AcquireVeLock(id, cancellationToken);
        var config = VeConfigFile.Read(RequireExisting(id, path));
        var name = config.Name;
        change(config);
        if (!string.Equals(config.Name, name, StringComparison.Ordinal))
            throw new InvalidOperationException("Names change through VeStore.Rename, which checks uniqueness.");
        VeConfigFile.Write(path, config);
        return config;
    }

    /// <summary>Renames a VE; the new name must be free.</summary>
    public VeConfig Rename(Guid id, string newName, CancellationToken cancellationToken = default)
    {
        VeNames.Validate(newName, "NewName");
        using var registry = AcquireRegistryLock(newName, cancellationToken);
        if (TryFind(newName) is { } other && other.Id != id)
            throw new VzAlreadyExistsException("VzVeNameInUse", $"A {Describe(other)} named '{newName}' already exists (id {other.Id}).", newName)
            { RecommendedAction = "Choose another name." };
        var path = paths.VeConfigPath(id);
        using var _ = AcquireVeLock(id, cancellationToken);
        var config = VeConfigFile.Read(RequireExisting(id, path));
        var old = config.Name;
        config.Name = newName;
        VeConfigFile.Write(path, config);
        logger.LogInformation("Renamed '{Old}' to '{New}'.", old, newName);
        return config;
    }

    /// <summary>
    /// Deletes a VE's folder. The folder is first renamed out of the registry (so it vanishes from listings at
    /// once, even if deletion is interrupted) and refused while anything is still mounted inside it.
    /// </summary>
    public void Remove(Guid id, CancellationToken cancellationToken = default)
    {
        var dir = paths.VeDirectory(id);
        if (!Directory.Exists(dir)) throw NotFound(id);
        using (AcquireVeLock(id, cancellationToken))
        {
            MountGuard.ThrowIfAnythingMountedUnder(dir, id);
            var trash = Path.Combine(paths.PrivateRoot, $".trash-{id:N}-{Environment.ProcessId}");
            Directory.Move(dir, trash);
            AtomicFile.SyncDirectory(paths.PrivateRoot);
            Directory.Delete(trash, recursive: true);
        }
        logger.LogInformation("Removed VE {Id}.", id);
    }

    /// <summary>
    /// Holds a VE's lock for a long operation (start, clone, resize) so two sessions cannot run conflicting jobs
    /// on one VE. Config updates inside take the same lock, so use <see cref="UpdateLocked"/> while holding it.
    /// </summary>
    public FileLock AcquireVeLock(Guid id, CancellationToken cancellationToken = default)
    {
        var dir = paths.VeDirectory(id);
        if (!Directory.Exists(dir)) throw NotFound(id);
        return FileLock.Acquire(Path.Combine(dir, VeLockFileName), LockTimeout, id, cancellationToken);
    }

    /// <summary>Like <see cref="Update"/>, for a caller that already holds the VE's lock.</summary>
    public VeConfig UpdateLocked(FileLock held, Guid id, Action<VeConfig> change)
    {
        if (!held.Path.StartsWith(paths.VeDirectory(id), StringComparison.Ordinal))
            throw new InvalidOperationException("The lock held is not this VE's lock.");
        var path = paths.VeConfigPath(id);
        var config = VeConfigFile.Read(RequireExisting(id, path));
        var name = config.Name;
        change(config);
        if (config.Name != name) throw new InvalidOperationException("Names change through VeStore.Rename.");
        VeConfigFile.Write(path, config);
        return config;
    }

    private FileLock AcquireRegistryLock(object target, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.DataRoot);
        return FileLock.Acquire(paths.RegistryLockPath, LockTimeout, target, cancellationToken);
    }

    private VeRecord Load(Guid id, string dir)
    {
        var marker = CreationMarker.Inspect(dir);
        try
        {
            var config = VeConfigFile.ReadCached(Path.Combine(dir, "ve.yaml"));
            return new VeRecord(id, dir, config, marker ?? VeRegistrationState.Ready, null);
        }
        catch (VzConfigCorruptException ex)
        {
            // A creator killed before its first write leaves a folder with a marker and no config: that is
            // "incomplete", not "corrupt".
            if (marker is not null) return new VeRecord(id, dir, null, marker.Value, null);
            var (name, type) = VeConfigFile.Salvage(Path.Combine(dir, "ve.yaml"));
            var error = name is null ? ex : ex.ForVe(type == VeType.VirtualMachine ? "VM" : type == VeType.Container ? "container" : "VE", name, id);
            return new VeRecord(id, dir, null, VeRegistrationState.Corrupt, error) { NameHint = name, TypeHint = type };
        }
    }

    private string RequireExisting(Guid id, string path) => File.Exists(path) ? path : throw NotFound(id);

    private static VzNotFoundException NotFound(Guid id) =>
        new("VzVeNotFound", $"No VE with id {id} exists on this host.", id)
        { RecommendedAction = "List VEs with Get-VzContainer or Get-VzVm." };

    private static string Describe(VeRecord r) => r.Config?.Type == VeType.VirtualMachine ? "VM" : "container";
}
