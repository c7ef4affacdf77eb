namespace Virtuozzo.Engine.Store;

/// <summary>How far a VE's folder is from being a usable VE. Runtime state (running, stopped) is separate.</summary>
public enum VeRegistrationState
{
    /// <summary>Fully created; its config reads.</summary>
    Ready,

    /// <summary>Being created right now by a live process.</summary>
    Creating,

    /// <summary>Left half-created by a process that died; it can only be removed.</summary>
    Incomplete,

    /// <summary>Its ve.yaml cannot be read; <see cref="VeRecord.Error"/> says why and where.</summary>
    Corrupt,
}
