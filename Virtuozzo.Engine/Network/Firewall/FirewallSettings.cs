namespace Virtuozzo.Engine.Network.Firewall;

/// <summary>A VE's firewall as stored in <c>firewall.yaml</c> beside its <c>ve.yaml</c>.</summary>
public sealed class FirewallSettings
{
    /// <summary>Off: the VE's traffic is not filtered (and not checked for spoofing).</summary>
    public bool Enabled { get; set; }

    /// <summary>What happens to packets to the VE that no rule matched (Proxmox's default: drop).</summary>
    public FirewallAction DefaultInbound { get; set; } = FirewallAction.Drop;

    /// <summary>What happens to packets from the VE that no rule matched.</summary>
    public FirewallAction DefaultOutbound { get; set; } = FirewallAction.Accept;

    /// <summary>Rules in evaluation order: the first that matches decides.</summary>
    public List<FirewallRule> Rules { get; set; } = [];
}
