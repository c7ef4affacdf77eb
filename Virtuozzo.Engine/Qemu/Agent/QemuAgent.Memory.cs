using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Agent;

/// <summary>The guest's memory blocks (guest-get-memory-blocks, guest-set-memory-blocks): how hotplugged RAM is onlined in a guest that does not online it itself.</summary>
public sealed partial class QemuAgent
{
    /// <summary>The guest kernel's memory blocks (/sys/devices/system/memory/memoryN), by physical index.</summary>
    public async Task<IReadOnlyList<GuestMemoryBlock>> GuestGetMemoryBlocksAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        (await ExecuteAsync("guest-get-memory-blocks", null, timeout, cancellationToken) as JsonArray)?
            .Select(b => new GuestMemoryBlock(b?["phys-index"]?.GetValue<ulong>() ?? 0, b?["online"]?.GetValue<bool>() == true))
            .ToList() ?? [];

    /// <summary>Onlines the given blocks; returns how many the guest reports onlined (a block it cannot online is not an error here: the caller compares MemTotal).</summary>
    public async Task<int> GuestOnlineMemoryBlocksAsync(IEnumerable<ulong> physIndexes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var blocks = new JsonArray(physIndexes.Select(i => (JsonNode)new JsonObject { ["phys-index"] = i, ["online"] = true, ["can-offline"] = true }).ToArray());
        var result = await ExecuteAsync("guest-set-memory-blocks", new JsonObject { ["mem-blks"] = blocks }, timeout, cancellationToken) as JsonArray;
        return result?.Count(r => r?["response"]?.GetValue<string>() == "success") ?? 0;
    }
}

/// <summary>One guest memory block as the agent reports it.</summary>
public readonly record struct GuestMemoryBlock(ulong PhysIndex, bool Online);
