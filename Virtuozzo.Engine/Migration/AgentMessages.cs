using System.Text.Json;
using System.Text.Json.Serialization;

namespace Virtuozzo.Engine.Migration;

/// <summary>What the source asks the destination's agent to check (nothing is changed by a probe).</summary>
public sealed record AgentProbeRequest
{
    public string ConfigYaml { get; init; } = "";
    public MigrationMode Mode { get; init; }
    /// <summary>Bytes the disks or private area take on the source: the space the destination must have.</summary>
    public long RequiredBytes { get; init; }
    public string? SourceQemuVersion { get; init; }
    public string? SourceAccelerator { get; init; }
    /// <summary>The source's host identity, so a move to the host itself is refused.</summary>
    public string SourceIdentity { get; init; } = "";
}

public sealed record AgentProbeReply
{
    public string HostIdentity { get; init; } = "";
    public string DataRoot { get; init; } = "";
    public string? QemuVersion { get; init; }
    public string? Accelerator { get; init; }
    public long FreeBytes { get; init; }
    public List<MigrationIncompatibility> Incompatibilities { get; init; } = [];
    /// <summary>For a live VM: where its incoming QEMU will listen, so the source's tunnel can connect during the prepare.</summary>
    public string? IncomingNbdSocket { get; init; }
    public string? IncomingMigrationSocket { get; init; }
}

/// <summary>Register the VE on the destination (same id, name and settings) and get ready to receive it.</summary>
public sealed record AgentPrepareRequest
{
    public string ConfigYaml { get; init; } = "";
    public MigrationMode Mode { get; init; }
    /// <summary>For a live VM: each disk's virtual size, so the destination creates empty images of that size.</summary>
    public Dictionary<string, long> DiskSizes { get; init; } = [];
}

public sealed record AgentPrepareReply
{
    public string VeDirectory { get; init; } = "";
    public string? NbdSocket { get; init; }
    public string? MigrationSocket { get; init; }
}

/// <summary>One line of an agent session: a verb, its arguments and its request (what a one-shot call sends on stdin).</summary>
public sealed record AgentSessionRequest
{
    public string Verb { get; init; } = "";
    public List<string> Args { get; init; } = [];
    public JsonElement? Request { get; init; }
}

/// <summary>The session's answer line: the verb's reply, or its error.</summary>
public sealed record AgentSessionReply
{
    public JsonElement? Reply { get; init; }
    public AgentError? Error { get; init; }
}

/// <summary>The agent's answer on failure: enough to raise the same typed error on the source.</summary>
public sealed record AgentError(string Kind, string ErrorId, string Message, string? RecommendedAction, string? Target);

/// <summary>JSON for the agent protocol: camelCase, enums as names.</summary>
public static class AgentJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        MaxDepth = 16,
    };
}
