using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>Block nodes: blockdev-add, blockdev-del, block_resize.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>Adds a block node graph described as for -blockdev (see CommandLine.QemuCommandLine.DiskNode).</summary>
    public Task BlockdevAddAsync(JsonObject node, CancellationToken cancellationToken) => ExecuteAsync("blockdev-add", node, cancellationToken);

    public Task BlockdevDelAsync(string nodeName, CancellationToken cancellationToken) =>
        ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = nodeName }, cancellationToken);

    /// <summary>Grows the image under a node while the guest runs; the guest sees the new size at once.</summary>
    public Task BlockResizeAsync(string nodeName, long size, CancellationToken cancellationToken) =>
        ExecuteAsync("block_resize", new JsonObject { ["node-name"] = nodeName, ["size"] = size }, cancellationToken);
}
