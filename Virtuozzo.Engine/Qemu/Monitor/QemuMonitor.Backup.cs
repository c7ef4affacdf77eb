using System.Text.Json.Nodes;

namespace Virtuozzo.Engine.Qemu.Monitor;

/// <summary>
/// Live backup: blockdev-backup jobs and persistent dirty bitmaps, started together in one transaction so the bitmap
/// tracks exactly the writes after the backup's point in time; query-named-block-nodes to read a bitmap's state
/// (an unclean QEMU exit leaves it "inconsistent"), block-dirty-bitmap-remove, job-cancel.
/// </summary>
public sealed partial class QemuMonitor
{
    /// <summary>One disk's part of a backup transaction.</summary>
    /// <param name="Node">The disk's format node.</param>
    /// <param name="Target">The node of the opened target image.</param>
    /// <param name="JobId">The job's id (one per disk).</param>
    /// <param name="Bitmap">The persistent bitmap: added with a full backup, read by an incremental one.</param>
    /// <param name="Incremental">sync=incremental from <paramref name="Bitmap"/> instead of sync=full.</param>
    public sealed record BackupAction(string Node, string Target, string JobId, string Bitmap, bool Incremental);

    /// <summary>
    /// Starts the backup jobs of every disk in one transaction. A full backup adds each disk's persistent bitmap in
    /// the same transaction; an incremental one copies the clusters its bitmap marks and clears it on success.
    /// Jobs are not auto-dismissed, so a failure stays readable through query-jobs.
    /// </summary>
    public Task BackupTransactionAsync(IEnumerable<BackupAction> disks, CancellationToken cancellationToken)
    {
        var actions = new JsonArray();
        foreach (var d in disks)
        {
            if (!d.Incremental)
                actions.Add(new JsonObject
                {
                    ["type"] = "block-dirty-bitmap-add",
                    ["data"] = new JsonObject { ["node"] = d.Node, ["name"] = d.Bitmap, ["persistent"] = true },
                });
            var backup = new JsonObject
            {
                ["job-id"] = d.JobId, ["device"] = d.Node, ["target"] = d.Target,
                ["sync"] = d.Incremental ? "incremental" : "full", ["auto-dismiss"] = false,
            };
            if (d.Incremental) backup["bitmap"] = d.Bitmap;
            actions.Add(new JsonObject { ["type"] = "blockdev-backup", ["data"] = backup });
        }
        return ExecuteAsync("transaction", new JsonObject { ["actions"] = actions }, cancellationToken);
    }

    /// <summary>The dirty bitmaps of one node: name, whether inconsistent (unclean exit), and how many bytes they mark.</summary>
    public async Task<IReadOnlyList<DirtyBitmap>> QueryBitmapsAsync(string nodeName, CancellationToken cancellationToken)
    {
        var nodes = await ExecuteAsync("query-named-block-nodes", new JsonObject { ["flat"] = true }, cancellationToken) as JsonArray;
        var node = nodes?.FirstOrDefault(n => n?["node-name"]?.GetValue<string>() == nodeName);
        var list = new List<DirtyBitmap>();
        foreach (var b in node?["dirty-bitmaps"] as JsonArray ?? [])
        {
            if (b?["name"]?.GetValue<string>() is not { } name) continue;
            list.Add(new DirtyBitmap(name, b["inconsistent"]?.GetValue<bool>() ?? false, b["persistent"]?.GetValue<bool>() ?? false, b["count"]?.GetValue<long>() ?? 0));
        }
        return list;
    }

    public Task BlockDirtyBitmapRemoveAsync(string nodeName, string bitmap, CancellationToken cancellationToken) =>
        ExecuteAsync("block-dirty-bitmap-remove", new JsonObject { ["node"] = nodeName, ["name"] = bitmap }, cancellationToken);

    public Task JobCancelAsync(string jobId, CancellationToken cancellationToken) =>
        ExecuteAsync("job-cancel", new JsonObject { ["id"] = jobId }, cancellationToken);
}

