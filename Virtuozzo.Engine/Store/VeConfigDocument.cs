namespace Virtuozzo.Engine.Store;

/// <summary>
/// A desired-state file written by Export-VzConfig and read by Import-VzConfig: the settings of one or more VEs,
/// keyed by name. Ids, creation times and runtime state are not part of it, so a file can describe VEs for
/// another host as well as round-trip the ones on this host.
/// </summary>
public sealed class VeConfigDocument
{
    /// <summary>Bumped when the file's shape changes incompatibly; a newer file is refused, not misread.</summary>
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;

    public List<VeSettingsEntry> Ves { get; set; } = [];
}
