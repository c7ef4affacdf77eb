namespace Virtuozzo.Engine.Qemu;

/// <summary>Whether the guest agent answers. Only asked when requested (Get-VzVm -GuestTools): asking costs a round trip.</summary>
public enum GuestToolsState
{
    /// <summary>Not asked in this call (use Get-VzVm -GuestTools).</summary>
    NotQueried,
    /// <summary>The VM is not running.</summary>
    NotRunning,
    /// <summary>The agent answered guest-sync.</summary>
    Responding,
    /// <summary>The VM runs but the agent did not answer in time.</summary>
    NotResponding,
}
