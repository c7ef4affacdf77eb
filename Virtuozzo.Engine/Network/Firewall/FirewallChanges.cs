namespace Virtuozzo.Engine.Network.Firewall;

/// <summary>What Set-VzFirewall asks for; null means "leave it alone".</summary>
public sealed class FirewallChanges
{
    public bool? Enabled { get; init; }
    public FirewallAction? DefaultInbound { get; init; }
    public FirewallAction? DefaultOutbound { get; init; }

    /// <summary>Replaces the whole rule list in one transaction (null: keep the rules).</summary>
    public IReadOnlyList<FirewallRule>? Rules { get; init; }
}
