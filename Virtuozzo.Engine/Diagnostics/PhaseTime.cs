namespace Virtuozzo.Engine.Diagnostics;

/// <summary>One phase of a traced operation and the milliseconds it took.</summary>
public sealed record PhaseTime(string Name, double Milliseconds)
{
    /// <summary>"destination checks 812 ms": also what a remote session receives (nested objects arrive as text).</summary>
    public override string ToString() => $"{Name} {Milliseconds:0} ms";
}
