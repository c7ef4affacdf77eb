using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>
/// Facts about the guest: guest-info, guest-get-osinfo, guest-get-host-name, guest-get-timezone, guest-get-vcpus,
/// guest-get-disks. Each may be missing from an older agent (a <see cref="QgaException"/>).
/// </summary>
public sealed partial class QemuAgent
{
    /// <summary>The agent's version and the commands it has enabled.</summary>
    public async Task<(string? Version, IReadOnlyList<string> EnabledCommands)> GuestInfoAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = await ExecuteAsync("guest-info", null, timeout, cancellationToken);
        var commands = (info?["supported_commands"] as JsonArray)?.Where(c => c?["enabled"]?.GetValue<bool>() == true)
            .Select(c => Str(c?["name"]) ?? "").ToList() ?? [];
        return (Str(info?["version"]), commands);
    }

    /// <summary>The guest OS as a GuestInfo carrying only the OS fields.</summary>
    public async Task<GuestInfo> GuestGetOsinfoAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var os = await ExecuteAsync("guest-get-osinfo", null, timeout, cancellationToken);
        return new GuestInfo
        {
            VmName = name,
            OsName = Str(os?["pretty-name"]) ?? Str(os?["name"]),
            OsVersion = Str(os?["version"]),
            KernelRelease = Str(os?["kernel-release"]),
            KernelVersion = Str(os?["kernel-version"]),
            Machine = Str(os?["machine"]),
        };
    }

    public async Task<string?> GuestGetHostNameAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        Str((await ExecuteAsync("guest-get-host-name", null, timeout, cancellationToken))?["host-name"]);

    /// <summary>The zone name and its offset from UTC in seconds.</summary>
    public async Task<(string? Zone, int? OffsetSeconds)> GuestGetTimezoneAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var tz = await ExecuteAsync("guest-get-timezone", null, timeout, cancellationToken);
        return (Str(tz?["zone"]), tz?["offset"] is JsonValue off ? off.GetValue<int>() : null);
    }

    /// <summary>How many of the guest's vCPUs are online.</summary>
    public async Task<int> GuestGetVcpusOnlineAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        (await ExecuteAsync("guest-get-vcpus", null, timeout, cancellationToken) as JsonArray)?.Count(c => c?["online"]?.GetValue<bool>() == true) ?? 0;

    /// <summary>The guest's disk device names.</summary>
    public async Task<IReadOnlyList<string>> GuestGetDisksAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        (await ExecuteAsync("guest-get-disks", null, timeout, cancellationToken) as JsonArray)?.Select(d => Str(d?["name"]) ?? "").Where(d => d.Length > 0).ToList() ?? [];
}
