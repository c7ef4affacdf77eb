namespace Virtuozzo.Engine.Network.Firewall;

/// <summary>A firewall rule as Get-VzFirewallRule shows it: the rule with the VE it belongs to and its position.</summary>
public sealed class VeFirewallRule
{
    public string VeName { get; init; } = "";
    public Guid VeId { get; init; }
    public int Position { get; init; }
    public string Name { get; init; } = "";
    public FirewallDirection Direction { get; init; }
    public FirewallAction Action { get; init; }
    public string Protocol { get; init; } = "any";
    public IReadOnlyList<string> LocalPort { get; init; } = [];
    public IReadOnlyList<string> RemotePort { get; init; } = [];
    public IReadOnlyList<string> RemoteAddress { get; init; } = [];

    /// <summary>Packets this rule matched so far (all its nft lines together).</summary>
    public long Packets { get; init; }
}
