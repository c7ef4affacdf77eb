namespace Virtuozzo.Engine.Qemu;

/// <summary>Whether the guest agent answers: from the host service's cache when it runs, else asked only on request (Get-VzVm -GuestTools), which costs a round trip.</summary>
public enum GuestToolsState
{
    /// <summary>Not asked in this call and no fresh cache (use Get-VzVm -GuestTools, or run the host service).</summary>
    NotQueried,
    /// <summary>The VM is not running.</summary>
    NotRunning,
    /// <summary>The agent answered guest-sync.</summary>
    Responding,
    /// <summary>The VM runs but the agent did not answer in time.</summary>
    NotResponding,
}
