namespace Virtuozzo.Engine.Store;

/// <summary>What importing one entry of a desired-state file does (or did) to the registry.</summary>
public enum VeConfigImportAction
{
    /// <summary>No VE had the entry's name: a new one is registered.</summary>
    Create,

    /// <summary>The VE exists and some settings differ: they are rewritten.</summary>
    Update,

    /// <summary>The VE exists and already matches the file.</summary>
    Unchanged,
}
