namespace Virtuozzo.Engine.Containers.Runtime;

/// <summary>What the runtime's <c>state</c> command says about a container: created, running, paused or stopped, and its init pid.</summary>
public sealed record OciState(string Status, int Pid);
