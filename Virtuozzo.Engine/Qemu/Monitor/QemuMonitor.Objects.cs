using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>QOM backend objects: object-add.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>Adds a RAM backend of <paramref name="size"/> bytes that a pc-dimm can use as its memdev.</summary>
    public Task ObjectAddMemoryBackendRamAsync(string id, long size, CancellationToken cancellationToken) =>
        ExecuteAsync("object-add", new JsonObject { ["qom-type"] = "memory-backend-ram", ["id"] = id, ["size"] = size }, cancellationToken);
}
