namespace Virtuozzo.Engine.Ksm;

/// <summary>Who decides KSM's settings: a person (Set-VzKsm values), or the host service (Set-VzKsm -Policy Auto).</summary>
public enum KsmPolicyMode
{
    Manual,
    Auto,
}
