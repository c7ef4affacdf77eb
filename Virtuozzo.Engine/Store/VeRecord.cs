using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Store;

/// <summary>One folder in the registry: its id, what its config says (when it reads), and how complete it is.</summary>
public sealed record VeRecord(Guid Id, string Directory, VeConfig? Config, VeRegistrationState State, VzConfigCorruptException? Error)
{
    /// <summary>The VE's name, or its id when the config cannot be read.</summary>
    public string DisplayName => Config?.Name is { Length: > 0 } n ? n : Id.ToString();

    /// <summary>For a corrupt config: the name its file still shows, so the VE can be found by the name a user knows.</summary>
    public string? NameHint { get; init; }

    /// <summary>For a corrupt config: the type its file still shows, if any.</summary>
    public VeType? TypeHint { get; init; }
}
