namespace Virtuozzo.Engine.Network.Firewall;

/// <summary>What Get-VzFirewall shows for one VE.</summary>
public sealed class VeFirewallInfo
{
    public string VeName { get; init; } = "";
    public Guid VeId { get; init; }
    public bool Enabled { get; init; }
    public FirewallAction DefaultInbound { get; init; }
    public FirewallAction DefaultOutbound { get; init; }
    public int RuleCount { get; init; }

    /// <summary>The VE's NIC MACs and addresses its packets are checked against (anti-spoofing).</summary>
    public IReadOnlyList<string> AllowedSources { get; init; } = [];

    /// <summary>The nft table and the VE's two chains, for <c>nft list chain</c> when something needs explaining.</summary>
    public string Table { get; init; } = "";
    public string InboundChain { get; init; } = "";
    public string OutboundChain { get; init; } = "";

    /// <summary>Packets the default policy dropped or rejected so far (read from the chain counters), per direction.</summary>
    public long InboundDefaultPackets { get; init; }
    public long OutboundDefaultPackets { get; init; }

    /// <summary>On the result of a change (Set-VzFirewall -PassThru): how long nft took to load the new ruleset, in ms.</summary>
    public double? ApplyMilliseconds { get; init; }
}
