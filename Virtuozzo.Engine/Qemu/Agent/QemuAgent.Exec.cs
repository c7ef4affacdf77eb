using System.Text;
using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>Running programs in the guest: guest-exec, guest-exec-status.</summary>
public sealed partial class QemuAgent
{
    /// <summary>Starts <paramref name="path"/> with output captured; returns the guest pid to poll.</summary>
    public async Task<long> GuestExecAsync(string path, IReadOnlyList<string> arguments, string? stdin, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var args = new JsonObject
        {
            ["path"] = path,
            ["arg"] = new JsonArray(arguments.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
            ["capture-output"] = true,
        };
        if (stdin is not null) args["input-data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(stdin));
        var started = await ExecuteAsync("guest-exec", args, timeout, cancellationToken);
        return started?["pid"]?.GetValue<long>() ?? throw new InvalidDataException("guest-exec returned no pid.");
    }

    /// <summary>Whether the program exited, and its exit code, signal and decoded output once it did.</summary>
    public async Task<GuestExecStatus> GuestExecStatusAsync(long pid, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var status = await ExecuteAsync("guest-exec-status", new JsonObject { ["pid"] = pid }, timeout, cancellationToken) as JsonObject
                     ?? throw new InvalidDataException("guest-exec-status returned no object.");
        if (status["exited"]?.GetValue<bool>() != true) return new GuestExecStatus { Exited = false };
        return new GuestExecStatus
        {
            Exited = true,
            ExitCode = status["exitcode"] is JsonValue e ? e.GetValue<int>() : -1,
            Signal = status["signal"] is JsonValue s ? s.GetValue<int>() : null,
            StdOut = Decode(status["out-data"]),
            StdErr = Decode(status["err-data"]),
            OutputTruncated = status["out-truncated"]?.GetValue<bool>() == true || status["err-truncated"]?.GetValue<bool>() == true,
        };
    }

    private static string Decode(JsonNode? base64)
    {
        if (base64 is not JsonValue v || !v.TryGetValue<string>(out var s) || s.Length == 0) return "";
        try { return Encoding.UTF8.GetString(Convert.FromBase64String(s)); }
        catch (FormatException) { return ""; }
    }
}
