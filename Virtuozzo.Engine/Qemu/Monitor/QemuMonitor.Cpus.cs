using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>vCPUs: query-cpus-fast.</summary>
public sealed partial class QemuMonitor
{
    /// <summary>The host thread id of every vCPU (for pinning).</summary>
    public async Task<IReadOnlyList<int>> QueryVcpuThreadIdsAsync(CancellationToken cancellationToken)
    {
        var list = await ExecuteAsync("query-cpus-fast", null, cancellationToken) as JsonArray ?? [];
        return list.Select(c => c?["thread-id"]?.GetValue<int>() ?? 0).Where(t => t > 0).ToList();
    }
}
