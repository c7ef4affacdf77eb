namespace Virtuozzo.Engine.Store;

/// <summary>
/// One entry of an import: the VE, what is done to it and which settings differ (as "memory.size: 268435456 -> 536870912").
/// Returned by <see cref="VeConfigExchange.Plan"/> before anything changes and by <see cref="VeConfigExchange.ApplyAsync"/> after.
/// </summary>
public sealed record VeConfigImportResult
{
    public string Name { get; init; } = "";
    public VeType Type { get; init; }
    /// <summary>The VE's id; empty for a VE that is still to be created.</summary>
    public Guid Id { get; init; }
    public VeConfigImportAction Action { get; init; }
    public IReadOnlyList<string> Changes { get; init; } = [];
    /// <summary>The file the entry came from, and its line.</summary>
    public string Path { get; init; } = "";
    public int Line { get; init; }
    /// <summary>False while planned (-WhatIf); true once written to the registry.</summary>
    public bool Applied { get; init; }

    /// <summary>The configuration the VE gets (internal: the plan carries it to <see cref="VeConfigExchange.ApplyAsync"/>).</summary>
    internal VeConfig? Desired { get; init; }
}
